package dev.arbor.repair.tree;

import dev.arbor.storage.AtomicFileWriter;
import dev.arbor.storage.DurableDirectories;
import dev.arbor.storage.format.FileFormat;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Writes a tree file from leaves given in ascending entity order, with memory independent of the
 * number of leaves: each leaf is appended to its slot's spill file (created lazily in a directory
 * private to this build) and folded into that slot's running hash; {@link #finish} concatenates
 * the spill files into the leaf section, appends the slot table and footer, fsyncs and renames.
 */
public final class TreeFileWriter implements Closeable {
  private final Path spillDir;
  private final int slotCount;
  private final OutputStream[] spills;
  private final TreeHasher.SlotDigest[] digests;
  private final CRC32C[] crcs;
  private final long[] lengths;
  private final int bufferSize;
  private byte[] lastEntity;
  private long total;

  /** @param spillDir a fresh directory for this build only; deleted on close */
  public TreeFileWriter(Path spillDir, int slotCount) throws IOException {
    if (slotCount <= 0) {
      throw new IllegalArgumentException("slotCount must be > 0");
    }
    this.spillDir = Files.createDirectories(spillDir);
    this.slotCount = slotCount;
    this.spills = new OutputStream[slotCount];
    this.digests = new TreeHasher.SlotDigest[slotCount];
    this.crcs = new CRC32C[slotCount];
    this.lengths = new long[slotCount];
    this.bufferSize = Math.max(4096, Math.min(64 << 10, (8 << 20) / slotCount));
  }

  /** Adds the next leaf; entities must arrive in strictly ascending UTF-8 byte order. */
  public void add(byte[] entityUtf8, byte[] sha) throws IOException {
    if (sha.length != TreeHasher.HASH_LENGTH) {
      throw new IllegalArgumentException("leaf hash must be 64 bytes");
    }
    if (lastEntity != null && java.util.Arrays.compareUnsigned(lastEntity, entityUtf8) >= 0) {
      throw new IllegalArgumentException(
          "leaves out of order: " + new String(entityUtf8, StandardCharsets.UTF_8) + " after "
              + new String(lastEntity, StandardCharsets.UTF_8));
    }
    lastEntity = entityUtf8;
    int slot = TreeHasher.slotOf(entityUtf8, slotCount);
    if (spills[slot] == null) {
      spills[slot] = new BufferedOutputStream(Files.newOutputStream(spillFile(slot)), bufferSize);
      digests[slot] = TreeHasher.slotDigest();
      crcs[slot] = new CRC32C();
    }
    byte[] len = TreeHasher.u32(entityUtf8.length);
    spills[slot].write(len);
    spills[slot].write(entityUtf8);
    spills[slot].write(sha);
    crcs[slot].update(len);
    crcs[slot].update(entityUtf8);
    crcs[slot].update(sha);
    lengths[slot] += 4 + entityUtf8.length + sha.length;
    digests[slot].add(entityUtf8, sha);
    total++;
  }

  public long leafCount() {
    return total;
  }

  /** Composes the tree file at {@code target} atomically and returns what it holds. */
  public TreeSummary finish(Path target, TreeHeader header) throws IOException {
    if (header.slotCount() != slotCount) {
      throw new IllegalArgumentException("header slot count differs from the writer's");
    }
    for (OutputStream o : spills) {
      if (o != null) {
        o.close();
      }
    }
    byte[] headerBytes = encodeHeader(header);
    List<SlotSummary> slots = new ArrayList<>(slotCount);
    int[] counts = new int[slotCount];
    byte[][] hashes = new byte[slotCount][];
    byte[] emptyHash = TreeHasher.emptySlotHash();
    long offset = headerBytes.length;
    for (int i = 0; i < slotCount; i++) {
      boolean used = digests[i] != null;
      counts[i] = used ? digests[i].leafCount() : 0;
      hashes[i] = used ? digests[i].finish() : emptyHash;
      int crc = used ? (int) crcs[i].getValue() : 0;
      slots.add(new SlotSummary(i, hashes[i], counts[i], offset, lengths[i], crc));
      offset += lengths[i];
    }
    byte[] root = TreeHasher.rootHash(counts, hashes);
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    DurableDirectories.create(target.toAbsolutePath().getParent());
    try (FileChannel out =
        FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
      writeAll(out, ByteBuffer.wrap(headerBytes));
      for (int i = 0; i < slotCount; i++) {
        if (lengths[i] > 0) {
          try (FileChannel in = FileChannel.open(spillFile(i), StandardOpenOption.READ)) {
            long pos = 0;
            while (pos < lengths[i]) {
              pos += in.transferTo(pos, lengths[i] - pos, out);
            }
          }
        }
      }
      long slotsOffset = offset;
      byte[] slotTable = encodeSlots(slots);
      writeAll(out, ByteBuffer.wrap(slotTable));
      CRC32C slotCrc = new CRC32C();
      slotCrc.update(slotTable);
      writeAll(out, ByteBuffer.wrap(encodeFooter(slotsOffset, slotCount, total, root, (int) slotCrc.getValue())));
      out.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    AtomicFileWriter.fsyncDirectory(target.toAbsolutePath().getParent());
    return new TreeSummary(header, root, slots, total);
  }

  private Path spillFile(int slot) {
    return spillDir.resolve("slot-" + slot + ".spill");
  }

  private static void writeAll(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  static byte[] encodeHeader(TreeHeader h) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeInt(h.slotCount());
    out.writeLong(h.snapshotId());
    out.writeLong(h.buildTimeMillis());
    byte[] g = h.group().getBytes(StandardCharsets.UTF_8);
    out.writeInt(g.length);
    out.write(g);
    out.writeInt(h.shard());
    out.flush();
    CRC32C crc = new CRC32C();
    crc.update(bytes.toByteArray());
    out.writeInt((int) crc.getValue());
    out.flush();
    byte[] envelope = FileFormat.header(TreeFileFormat.KIND, TreeFileFormat.VERSION);
    byte[] header = java.util.Arrays.copyOf(envelope, envelope.length + bytes.size());
    System.arraycopy(bytes.toByteArray(), 0, header, envelope.length, bytes.size());
    return header;
  }

  private static byte[] encodeSlots(List<SlotSummary> slots) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(slots.size() * TreeFileFormat.SLOT_RECORD_SIZE);
    DataOutputStream out = new DataOutputStream(bytes);
    for (SlotSummary s : slots) {
      out.writeInt(s.index());
      out.writeLong(s.leavesOffset());
      out.writeLong(s.leavesLength());
      out.writeInt(s.leafCount());
      out.writeInt(s.leavesCrc());
      out.write(s.hash());
    }
    out.flush();
    return bytes.toByteArray();
  }

  private static byte[] encodeFooter(long slotsOffset, int slotCount, long total, byte[] root, int slotCrc)
      throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(TreeFileFormat.FOOTER_SIZE);
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeLong(slotsOffset);
    out.writeInt(slotCount);
    out.writeLong(total);
    out.write(root);
    out.writeInt(slotCrc);
    out.flush();
    CRC32C crc = new CRC32C();
    crc.update(bytes.toByteArray());
    out.writeInt((int) crc.getValue());
    out.write(TreeFileFormat.FOOTER_MAGIC);
    out.flush();
    return bytes.toByteArray();
  }

  /** Deletes the spill directory (also after a failed or cancelled build). */
  @Override
  public void close() throws IOException {
    for (OutputStream o : spills) {
      if (o != null) {
        try {
          o.close();
        } catch (IOException ignored) {
          // already closed or failed; the directory is removed below
        }
      }
    }
    if (Files.exists(spillDir)) {
      try (Stream<Path> walk = Files.walk(spillDir)) {
        for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }
}
