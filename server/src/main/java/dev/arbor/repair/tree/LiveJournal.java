package dev.arbor.repair.tree;

import dev.arbor.storage.AtomicFileWriter;
import dev.arbor.storage.DurableDirectories;
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
import java.util.zip.CRC32C;

/**
 * The persisted incremental state of one shard's live tree ({@code live.bin}): which checkpoint
 * (tree file) it extends, each slot's hash and leaf count, the leaves written since that checkpoint,
 * and the WAL segment that was current when it was captured. Every write after the capture is
 * logged in that segment or a later one, so the state is complete again after a restart once the
 * keys of the records replayed from those segments are re-read from the index.
 *
 * <p>Version 3 (this build writes it) is append-only, so a store checkpoint costs what was written
 * since the previous one, not everything written since the tree file was built: after the
 * {@link FileFormat} header (kind {@value #KIND}; no footer, the header has its own checksum) come
 * blocks, each {@code u32 payloadLength | u32 crc32c(payload) | payload}. The first block is whole
 * ({@link #encode}: the state at a capture), every later one a {@link Delta}: the leaves written
 * between two captures, the hashes and counts of the slots they touched, and the later capture's
 * segment. Replaying the blocks in order gives the state at the last one. Version 2 (the whole
 * state in one sealed body, rewritten at every checkpoint) is still read.
 *
 * <pre>
 * whole payload : u8 1 | u64 walSegment | u64 checkpointSnapshotId | u64 checkpointLeafCount | checkpointRoot[64]
 *                 | u32 slotCount | slotCount × (slotHash[64] | u32 leafCount) | u64 entries | entries × entry
 * delta payload : u8 2 | u64 walSegment | u32 touchedSlots | touchedSlots × (u32 slot | slotHash[64] | u32 leafCount)
 *                 | u64 entries | entries × entry
 * entry         : u32 entityLen | entity utf8 | u8 shaLen (0 = removed) | sha
 * version 2     : sealed body = the whole payload without its leading type byte
 * </pre>
 *
 * <p>A torn tail (the last block incomplete or failing its checksum: a crash during an append) is
 * cut off and the state of the last whole block used: the append that tore had not returned, so
 * the checkpoint that made it had not deleted any WAL segment yet, and the segment check at resume
 * still applies to the block used. A bad block followed by more bytes is corruption: the journal
 * is refused and the tree rebuilt.
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
  /** Append-only blocks. */
  static final int VERSION = 3;
  /** The whole state rewritten at every checkpoint; read, never written. */
  static final int VERSION_WHOLE = 2;
  static final String FILE = "live.bin";
  static final int BLOCK_HEADER = 8;
  private static final byte WHOLE = 1;
  private static final byte DELTA = 2;

  /**
   * What changed between two captures.
   *
   * @param walSegment WAL segment current at the later capture
   * @param slots the touched slots, ascending
   * @param slotHashes their hashes at the later capture
   * @param leafCounts their leaf counts at the later capture
   * @param entries (entity, sha; {@link LiveTree#REMOVED} = removed) written between the captures, each key once
   */
  record Delta(long walSegment, int[] slots, byte[][] slotHashes, int[] leafCounts, List<byte[][]> entries) {}

  /**
   * A journal read from disk.
   *
   * @param journal the state at its last whole block
   * @param version its format version
   * @param blocks whole blocks read (1 for version 2)
   * @param tornBytes bytes of a torn tail cut off (not yet removed from the file)
   */
  record Read(LiveJournal journal, int version, int blocks, long tornBytes) {}

  /** A whole version-3 file: the header and one whole block. */
  byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    bytes.writeBytes(FileFormat.header(KIND, VERSION));
    bytes.writeBytes(block(wholePayload(WHOLE)));
    return bytes.toByteArray();
  }

  /** The version-2 file of this state (what builds before version 3 wrote; kept for the migration tests). */
  byte[] encodeVersion2() {
    byte[] p = wholePayload(WHOLE);
    return FileFormat.seal(KIND, VERSION_WHOLE, Arrays.copyOfRange(p, 1, p.length));
  }

  private byte[] wholePayload(byte type) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(type);
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
          writeEntry(out, e.getKey(), e.getValue());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** The block appending {@code d}. */
  static byte[] encode(Delta d) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(DELTA);
      out.writeLong(d.walSegment());
      out.writeInt(d.slots().length);
      for (int i = 0; i < d.slots().length; i++) {
        out.writeInt(d.slots()[i]);
        out.write(d.slotHashes()[i]);
        out.writeInt(d.leafCounts()[i]);
      }
      out.writeLong(d.entries().size());
      for (byte[][] e : d.entries()) {
        writeEntry(out, e[0], e[1]);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return block(bytes.toByteArray());
  }

  private static void writeEntry(DataOutputStream out, byte[] entity, byte[] sha) throws IOException {
    out.writeInt(entity.length);
    out.write(entity);
    out.writeByte(sha.length);
    out.write(sha);
  }

  private static byte[] block(byte[] payload) {
    CRC32C crc = new CRC32C();
    crc.update(payload);
    ByteBuffer b = ByteBuffer.allocate(BLOCK_HEADER + payload.length);
    b.putInt(payload.length).putInt((int) crc.getValue()).put(payload);
    return b.array();
  }

  /**
   * Writes the journal to {@code dir}/live.bin.tmp, fsynced; {@link #publish} renames it. Split so
   * the rename can be made conditional on the tree still being live.
   */
  Path writeTemp(Path dir) throws IOException {
    DurableDirectories.create(dir);
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

  /** The journal in {@code dir}, empty when there is none; throws {@link CorruptTreeException} when unusable. */
  static Optional<Read> read(Path dir, int slotCount) throws IOException {
    Path file = dir.resolve(FILE);
    byte[] all;
    try {
      all = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    return Optional.of(decode(all, file.toString(), slotCount));
  }

  /** Decodes a whole journal file ({@code name} names it in messages). */
  static Read decode(byte[] all, String name, int slotCount) throws IOException {
    int version;
    try {
      version = FileFormat.checkHeader(new DataInputStream(new ByteArrayInputStream(all)), name, KIND, VERSION_WHOLE,
          VERSION);
    } catch (FileFormatException e) {
      throw new CorruptTreeException(e.getMessage());
    }
    if (version == VERSION_WHOLE) {
      byte[] body;
      try {
        body = FileFormat.unseal(all, name, KIND, VERSION_WHOLE, VERSION_WHOLE).body();
      } catch (FileFormatException e) {
        throw new CorruptTreeException(e.getMessage());
      }
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(body));
      return new Read(decodeWhole(in, name, slotCount), version, 1, 0);
    }
    ByteBuffer b = ByteBuffer.wrap(all);
    b.position(FileFormat.headerLength(KIND));
    LiveJournal state = null;
    int blocks = 0;
    while (b.hasRemaining()) {
      int at = b.position();
      int remaining = b.remaining();
      int length = remaining >= BLOCK_HEADER ? b.getInt(at) : -1;
      if (length <= 0 || length > remaining - BLOCK_HEADER) {
        // The length itself is unusable or reaches past the end: a block cut short by a crash.
        return torn(state, version, blocks, remaining, name);
      }
      CRC32C crc = new CRC32C();
      crc.update(all, at + BLOCK_HEADER, length);
      if ((int) crc.getValue() != b.getInt(at + 4)) {
        if (at + BLOCK_HEADER + length == all.length) {
          return torn(state, version, blocks, remaining, name);
        }
        throw new CorruptTreeException(name + ": block " + blocks + " at byte " + at + " fails its checksum and more"
            + " blocks follow (the journal is corrupt, not torn)");
      }
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(all, at + BLOCK_HEADER, length));
      try {
        int type = in.readUnsignedByte();
        if (state == null) {
          if (type != WHOLE) {
            throw new CorruptTreeException(name + ": the first block is not a whole state");
          }
          state = decodeWhole(in, name, slotCount);
        } else {
          if (type != DELTA) {
            throw new CorruptTreeException(name + ": block " + blocks + " of type " + type + " after the first");
          }
          state = state.apply(in, name);
        }
        if (in.read() != -1) {
          throw new CorruptTreeException(name + ": bytes after the last entry of block " + blocks);
        }
      } catch (EOFException e) {
        throw new CorruptTreeException(name + ": block " + blocks + " ends early");
      }
      blocks++;
      b.position(at + BLOCK_HEADER + length);
    }
    if (state == null) {
      throw new CorruptTreeException(name + ": no block");
    }
    return new Read(state, version, blocks, 0);
  }

  private static Read torn(LiveJournal state, int version, int blocks, long tornBytes, String name)
      throws CorruptTreeException {
    if (state == null) {
      throw new CorruptTreeException(name + ": the first block is incomplete");
    }
    return new Read(state, version, blocks, tornBytes);
  }

  private static LiveJournal decodeWhole(DataInputStream in, String name, int slotCount) throws IOException {
    try {
      long seg = in.readLong();
      long snap = in.readLong();
      long leaves = in.readLong();
      byte[] root = in.readNBytes(TreeHasher.HASH_LENGTH);
      int slots = in.readInt();
      if (slots != slotCount || root.length != TreeHasher.HASH_LENGTH) {
        throw new CorruptTreeException(name + ": journal of " + slots + " slots, configured " + slotCount);
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
      LiveJournal j = new LiveJournal(seg, snap, leaves, root, hashes, counts, written);
      j.readEntries(in, name);
      if (in.read() != -1) {
        throw new CorruptTreeException(name + ": bytes after the last entry");
      }
      return j;
    } catch (EOFException e) {
      throw new CorruptTreeException(name + ": journal ends early");
    }
  }

  /** This state with the delta read from {@code in} applied (this one's maps are reused). */
  private LiveJournal apply(DataInputStream in, String name) throws IOException {
    long seg = in.readLong();
    int touched = in.readInt();
    if (touched < 0 || touched > slotHashes.length) {
      throw new CorruptTreeException(name + ": delta touches " + touched + " slots");
    }
    byte[][] hashes = slotHashes.clone();
    int[] counts = leafCounts.clone();
    for (int i = 0; i < touched; i++) {
      int slot = in.readInt();
      if (slot < 0 || slot >= hashes.length) {
        throw new CorruptTreeException(name + ": delta names slot " + slot);
      }
      hashes[slot] = new byte[TreeHasher.HASH_LENGTH];
      in.readFully(hashes[slot]);
      counts[slot] = in.readInt();
    }
    LiveJournal next = new LiveJournal(seg, checkpointSnapshotId, checkpointLeafCount, checkpointRoot, hashes, counts,
        written);
    next.readEntries(in, name);
    return next;
  }

  private void readEntries(DataInputStream in, String name) throws IOException {
    long entries = in.readLong();
    for (long n = 0; n < entries; n++) {
      int len = in.readInt();
      if (len <= 0 || len > TreeFileFormat.MAX_ENTITY) {
        throw new CorruptTreeException(name + ": entity length " + len);
      }
      byte[] entity = new byte[len];
      in.readFully(entity);
      int shaLen = in.readUnsignedByte();
      byte[] sha = shaLen == 0 ? LiveTree.REMOVED : new byte[shaLen];
      in.readFully(sha);
      written.get(TreeHasher.slotOf(entity, slotHashes.length)).put(entity, sha);
    }
  }

  static void delete(Path dir) throws IOException {
    Files.deleteIfExists(dir.resolve(FILE));
  }
}
