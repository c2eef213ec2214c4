package dev.arbor.repair.tree;

import dev.arbor.storage.AtomicFileWriter;
import dev.arbor.storage.format.FileFormat;
import dev.arbor.storage.format.FileFormatException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The persisted incremental state of one shard's live tree ({@code live.bin}): which checkpoint
 * (tree file) it extends, each slot's hash and leaf count, the leaves written since that checkpoint,
 * and the WAL segment that was current when it was captured. Every write after the capture is
 * logged in that segment or a later one, so the state is complete again after a restart once the
 * keys of the records replayed from those segments are re-read from the index.
 *
 * <p>Inside the {@link FileFormat} envelope (kind {@value #KIND}, version {@value #VERSION}; the
 * envelope's checksum covers the whole body):
 *
 * <pre>
 * u64 walSegment | u64 checkpointSnapshotId | u64 checkpointLeafCount | checkpointRoot[64]
 * | u32 slotCount | slotCount × (slotHash[64] | u32 leafCount)
 * | u64 entries | entries × (u32 entityLen | entity utf8 | u8 shaLen (0 = removed) | sha)
 * </pre>
 *
 * @param walSegment WAL segment current at capture
 * @param checkpointSnapshotId snapshot of the tree file this extends
 * @param checkpointLeafCount leaves of that tree file
 * @param checkpointRoot root of that tree file
 * @param slotHashes per slot, the live slot hash
 * @param leafCounts per slot, the live leaf count
 * @param written per slot, entity → sha ({@link LiveTree#REMOVED} = removed) written since the checkpoint
 */
record LiveJournal(long walSegment, long checkpointSnapshotId, long checkpointLeafCount, byte[] checkpointRoot,
    byte[][] slotHashes, int[] leafCounts, List<TreeMap<byte[], byte[]>> written) {
  static final String KIND = "tree-live-journal";
  /** Version 1 is the envelope's "no envelope" legacy number: the first version of this file is 2. */
  static final int VERSION = 2;
  static final String FILE = "live.bin";

  byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeLong(walSegment);
      out.writeLong(checkpointSnapshotId);
      out.writeLong(checkpointLeafCount);
      out.write(checkpointRoot);
      out.writeInt(slotHashes.length);
      for (int i = 0; i < slotHashes.length; i++) {
        out.write(slotHashes[i]);
        out.writeInt(leafCounts[i]);
      }
      long entries = 0;
      for (TreeMap<byte[], byte[]> w : written) {
        entries += w.size();
      }
      out.writeLong(entries);
      for (TreeMap<byte[], byte[]> w : written) {
        for (var e : w.entrySet()) {
          out.writeInt(e.getKey().length);
          out.write(e.getKey());
          out.writeByte(e.getValue().length);
          out.write(e.getValue());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return FileFormat.seal(KIND, VERSION, bytes.toByteArray());
  }

  /**
   * Writes the journal to {@code dir}/live.bin.tmp, fsynced; {@link #publish} renames it. Split so
   * the rename can be made conditional on the tree still being live.
   */
  Path writeTemp(Path dir) throws IOException {
    Files.createDirectories(dir);
    Path tmp = dir.resolve(FILE + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
        StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(encode());
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    return tmp;
  }

  static void publish(Path tmp) throws IOException {
    Files.move(tmp, tmp.resolveSibling(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  static void sync(Path dir) throws IOException {
    AtomicFileWriter.fsyncDirectory(dir);
  }

  /** The journal in {@code dir}, empty when there is none; throws {@link CorruptTreeException} when unreadable. */
  static Optional<LiveJournal> read(Path dir, int slotCount) throws IOException {
    Path file = dir.resolve(FILE);
    byte[] all;
    try {
      all = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    byte[] body;
    try {
      body = FileFormat.unseal(all, file.toString(), KIND, VERSION, VERSION).body();
    } catch (FileFormatException e) {
      throw new CorruptTreeException(e.getMessage());
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(body))) {
      long seg = in.readLong();
      long snap = in.readLong();
      long leaves = in.readLong();
      byte[] root = in.readNBytes(TreeHasher.HASH_LENGTH);
      int slots = in.readInt();
      if (slots != slotCount || root.length != TreeHasher.HASH_LENGTH) {
        throw new CorruptTreeException(file + ": journal of " + slots + " slots, configured " + slotCount);
      }
      byte[][] hashes = new byte[slots][];
      int[] counts = new int[slots];
      List<TreeMap<byte[], byte[]>> written = new ArrayList<>(slots);
      for (int i = 0; i < slots; i++) {
        hashes[i] = new byte[TreeHasher.HASH_LENGTH];
        in.readFully(hashes[i]);
        counts[i] = in.readInt();
        written.add(new TreeMap<>(Arrays::compareUnsigned));
      }
      long entries = in.readLong();
      for (long n = 0; n < entries; n++) {
        int len = in.readInt();
        if (len <= 0 || len > TreeFileFormat.MAX_ENTITY) {
          throw new CorruptTreeException(file + ": entity length " + len);
        }
        byte[] entity = new byte[len];
        in.readFully(entity);
        int shaLen = in.readUnsignedByte();
        byte[] sha = shaLen == 0 ? LiveTree.REMOVED : new byte[shaLen];
        in.readFully(sha);
        written.get(TreeHasher.slotOf(entity, slots)).put(entity, sha);
      }
      if (in.read() != -1) {
        throw new CorruptTreeException(file + ": bytes after the last entry");
      }
      return Optional.of(new LiveJournal(seg, snap, leaves, root, hashes, counts, written));
    } catch (EOFException e) {
      throw new CorruptTreeException(file + ": journal ends early");
    }
  }

  static void delete(Path dir) throws IOException {
    Files.deleteIfExists(dir.resolve(FILE));
  }
}
