package dev.arbor.repair.tree;

import dev.arbor.storage.format.FileFormat;
import dev.arbor.storage.format.FileFormatException;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.zip.CRC32C;

/**
 * Reads a tree file: {@link #open} checks the footer, header and slot table against their
 * checksums and keeps only those (a few KB) in memory; {@link #leaves} streams one slot's leaves
 * from disk and verifies that slot's checksum when the stream reaches its end. The reader keeps
 * its file open, so it keeps reading the same tree even after a rebuild renames a new file over
 * it; close it when done.
 */
public final class TreeFileReader implements Closeable {
  private final Path file;
  private final FileChannel channel;
  private final TreeSummary summary;
  private final int formatVersion;

  private TreeFileReader(Path file, FileChannel channel, TreeSummary summary, int formatVersion) {
    this.file = file;
    this.channel = channel;
    this.summary = summary;
    this.formatVersion = formatVersion;
  }

  public static TreeFileReader open(Path file) throws IOException {
    FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
    try {
      int[] version = new int[1];
      TreeSummary summary = readSummary(file, ch, version);
      return new TreeFileReader(file, ch, summary, version[0]);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  private static TreeSummary readSummary(Path file, FileChannel ch, int[] version) throws IOException {
    try {
      long size = ch.size();
      if (size < TreeFileFormat.FOOTER_SIZE) {
        throw new CorruptTreeException(file + ": too short for a tree file (" + size + " bytes)");
      }
      ByteBuffer footer = readAt(ch, size - TreeFileFormat.FOOTER_SIZE, TreeFileFormat.FOOTER_SIZE);
      byte[] fb = footer.array();
      if (!Arrays.equals(fb, fb.length - 4, fb.length, TreeFileFormat.FOOTER_MAGIC, 0, 4)) {
        throw new CorruptTreeException(file + ": footer magic missing (truncated or not a tree file)");
      }
      CRC32C fcrc = new CRC32C();
      fcrc.update(fb, 0, fb.length - 8);
      if ((int) fcrc.getValue() != footer.getInt(fb.length - 8)) {
        throw new CorruptTreeException(file + ": footer checksum mismatch");
      }
      long slotsOffset = footer.getLong(0);
      int slotCount = footer.getInt(8);
      long total = footer.getLong(12);
      byte[] root = Arrays.copyOfRange(fb, 20, 20 + TreeHasher.HASH_LENGTH);
      int slotCrc = footer.getInt(20 + TreeHasher.HASH_LENGTH);
      long slotsLen = (long) slotCount * TreeFileFormat.SLOT_RECORD_SIZE;
      if (slotCount <= 0 || slotsOffset < 0 || slotsOffset + slotsLen != size - TreeFileFormat.FOOTER_SIZE) {
        throw new CorruptTreeException(file + ": footer offsets do not match the file size");
      }
      ByteBuffer slotTable = readAt(ch, slotsOffset, (int) slotsLen);
      CRC32C scrc = new CRC32C();
      scrc.update(slotTable.array());
      if ((int) scrc.getValue() != slotCrc) {
        throw new CorruptTreeException(file + ": slot table checksum mismatch");
      }
      TreeHeader header = readHeader(file, ch, slotCount, version);
      List<SlotSummary> slots = new ArrayList<>(slotCount);
      long leafSum = 0;
      for (int i = 0; i < slotCount; i++) {
        int index = slotTable.getInt();
        long off = slotTable.getLong();
        long len = slotTable.getLong();
        int count = slotTable.getInt();
        int crc = slotTable.getInt();
        byte[] hash = new byte[TreeHasher.HASH_LENGTH];
        slotTable.get(hash);
        if (index != i || off < 0 || len < 0 || off + len > slotsOffset || count < 0) {
          throw new CorruptTreeException(file + ": slot " + i + " record is inconsistent");
        }
        leafSum += count;
        slots.add(new SlotSummary(index, hash, count, off, len, crc));
      }
      int[] counts = slots.stream().mapToInt(SlotSummary::leafCount).toArray();
      byte[][] hashes = slots.stream().map(SlotSummary::hash).toArray(byte[][]::new);
      if (leafSum != total || !Arrays.equals(TreeHasher.rootHash(counts, hashes), root)) {
        throw new CorruptTreeException(file + ": root does not match the slot table");
      }
      return new TreeSummary(header, root, List.copyOf(slots), total);
    } catch (EOFException | IndexOutOfBoundsException | java.nio.BufferUnderflowException e) {
      throw new CorruptTreeException(file + ": " + e);
    }
  }

  private static TreeHeader readHeader(Path file, FileChannel ch, int slotCount, int[] versionOut) throws IOException {
    DataInputStream in = new DataInputStream(new BufferedInputStream(new RangeInputStream(ch, 0, ch.size()), 512));
    in.mark(4);
    byte[] magic = new byte[4];
    in.readFully(magic);
    in.reset();
    CRC32C crc = new CRC32C();
    if (Arrays.equals(magic, TreeFileFormat.LEGACY_MAGIC)) {
      byte[] legacy = new byte[4 + 2];
      in.readFully(legacy);
      crc.update(legacy);
      int version = ByteBuffer.wrap(legacy).getShort(4) & 0xffff;
      if (version != TreeFileFormat.LEGACY_VERSION) {
        throw new CorruptTreeException(file + ": unsupported tree format version " + version);
      }
      versionOut[0] = version;
    } else if (FileFormat.startsWithMagic(magic)) {
      try {
        versionOut[0] = FileFormat.checkHeader(
            in, file.toString(), TreeFileFormat.KIND, TreeFileFormat.OLDEST_ENVELOPED, TreeFileFormat.VERSION);
      } catch (FileFormatException e) {
        throw new CorruptTreeException(e.getMessage());
      }
    } else {
      throw new CorruptTreeException(file + ": not a tree file (bad magic)");
    }
    byte[] fixed = new byte[4 + 8 + 8 + 4];
    in.readFully(fixed);
    crc.update(fixed);
    ByteBuffer b = ByteBuffer.wrap(fixed);
    int headerSlots = b.getInt();
    long snapshot = b.getLong();
    long built = b.getLong();
    int groupLen = b.getInt();
    if (groupLen < 0 || groupLen > 4096) {
      throw new CorruptTreeException(file + ": bad group length in header");
    }
    byte[] group = new byte[groupLen];
    in.readFully(group);
    crc.update(group);
    byte[] shardBytes = new byte[4];
    in.readFully(shardBytes);
    crc.update(shardBytes);
    int stored = in.readInt();
    if (stored != (int) crc.getValue()) {
      throw new CorruptTreeException(file + ": header checksum mismatch");
    }
    if (headerSlots != slotCount) {
      throw new CorruptTreeException(file + ": header and footer disagree on the slot count");
    }
    return new TreeHeader(
        new String(group, StandardCharsets.UTF_8), ByteBuffer.wrap(shardBytes).getInt(), slotCount, snapshot, built);
  }

  private static ByteBuffer readAt(FileChannel ch, long pos, int len) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(len);
    while (b.hasRemaining()) {
      if (ch.read(b, pos + b.position()) < 0) {
        throw new EOFException("unexpected end of file");
      }
    }
    b.flip();
    return b;
  }

  public Path file() {
    return file;
  }

  public TreeSummary summary() {
    return summary;
  }

  /**
   * The file's format version. Only {@link #CURRENT_FORMAT} trees may be served or compared: older
   * ones slot and hash leaves differently, so their roots never match a current tree's.
   */
  public int formatVersion() {
    return formatVersion;
  }

  /** The format this build writes and serves. */
  public static final int CURRENT_FORMAT = TreeFileFormat.VERSION;

  public TreeHeader header() {
    return summary.header();
  }

  public byte[] root() {
    return summary.root().clone();
  }

  public List<SlotSummary> slots() {
    return summary.slots();
  }

  /**
   * Streams the leaves of one slot in entity order, reading incrementally. Iteration throws
   * {@link UncheckedIOException} wrapping a {@link CorruptTreeException} if the slot's bytes do
   * not match its checksum. Close the iterator when done (also when stopping early).
   */
  public LeafIterator leaves(int slot) throws IOException {
    SlotSummary s = summary.slots().get(slot);
    return new LeafIterator(file, channel, s);
  }

  /** Reads every slot once, checking every checksum; returns the number of leaves read. */
  public long verifyAll() throws IOException {
    long n = 0;
    for (SlotSummary s : summary.slots()) {
      try (LeafIterator it = leaves(s.index())) {
        while (it.hasNext()) {
          it.next();
          n++;
        }
      } catch (UncheckedIOException e) {
        throw e.getCause();
      }
    }
    return n;
  }

  /** A streaming iterator over one slot's leaves. */
  public static final class LeafIterator implements Iterator<TreeLeaf>, Closeable {
    private final Path file;
    private final SlotSummary slot;
    private final DataInputStream in;
    private final CRC32C crc = new CRC32C();
    private int read;
    private boolean verified;

    private LeafIterator(Path file, FileChannel channel, SlotSummary slot) {
      this.file = file;
      this.slot = slot;
      InputStream range = new RangeInputStream(channel, slot.leavesOffset(), slot.leavesLength());
      this.in = new DataInputStream(new BufferedInputStream(range, 64 << 10));
    }

    @Override
    public boolean hasNext() {
      if (read < slot.leafCount()) {
        return true;
      }
      if (!verified && slot.leafCount() > 0 && (int) crc.getValue() != slot.leavesCrc()) {
        // Stays unverified: every later call throws again, never a quiet end.
        throw new UncheckedIOException(
            new CorruptTreeException(file + ": leaves of slot " + slot.index() + " fail their checksum"));
      }
      verified = true;
      return false;
    }

    @Override
    public TreeLeaf next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      try {
        int len = in.readInt();
        if (len < 0 || len > TreeFileFormat.MAX_ENTITY) {
          throw new CorruptTreeException(file + ": bad entity length in slot " + slot.index());
        }
        byte[] entity = new byte[len];
        in.readFully(entity);
        byte[] sha = new byte[TreeHasher.HASH_LENGTH];
        in.readFully(sha);
        crc.update(TreeHasher.u32(len));
        crc.update(entity);
        crc.update(sha);
        read++;
        return new TreeLeaf(entity, sha);
      } catch (EOFException e) {
        throw new UncheckedIOException(
            new CorruptTreeException(file + ": leaves of slot " + slot.index() + " end early"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public void close() {
      // Reads are positional on the reader's channel; nothing of our own to release.
    }
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }

  /**
   * A byte range of a file read with positional reads, so several iterators can share one
   * channel without sharing a position.
   */
  private static final class RangeInputStream extends InputStream {
    private final FileChannel ch;
    private long pos;
    private final long end;

    RangeInputStream(FileChannel ch, long offset, long length) {
      this.ch = ch;
      this.pos = offset;
      this.end = offset + length;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buf, int off, int len) throws IOException {
      if (pos >= end) {
        return -1;
      }
      int n = ch.read(ByteBuffer.wrap(buf, off, (int) Math.min(len, end - pos)), pos);
      if (n > 0) {
        pos += n;
      }
      return n;
    }
  }
}
