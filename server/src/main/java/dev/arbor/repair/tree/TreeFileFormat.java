package dev.arbor.repair.tree;

/**
 * Layout of a tree file, format version 3 (see {@code docs/tree-file-format.md}). All integers are
 * big-endian; hashes are 64 raw bytes.
 *
 * <pre>
 * header : FileFormat header (kind "repair-tree", version 3)
 *          | u32 slotCount | u64 snapshotId | u64 buildTimeMillis
 *          | u32 groupLen | group utf8 | u32 shard | u32 crc32c(bytes since the FileFormat header)
 * leaves : for each slot in index order, for each leaf in entity order:
 *          u32 entityLen | entity utf8 | sha[64]
 * slots  : slotCount × (u32 index | u64 leavesOffset | u64 leavesLength | u32 leafCount
 *          | u32 crc32c(leaf bytes) | hash[64])
 * footer : u64 slotsOffset | u32 slotCount | u64 totalLeaves | root[64] | u32 crc32c(slot table)
 *          | u32 crc32c(footer bytes before it) | "TBRA"
 * </pre>
 *
 * The footer has a fixed size and ends the file, so a reader finds it from the file size alone; a
 * truncated or bit-flipped file fails one of the checksums. The file has no FileFormat footer (a
 * checksum over the whole file): a repair session reads a few slots of a tree that may hold
 * millions of leaves, so each part carries its own checksum instead, as a WAL segment's frames do.
 * Files are written to a temp name, fsynced and renamed, so a reader never sees a partial file.
 *
 * <p>Format 3 changed what the bytes mean, not where they are: the slot of a leaf comes from a
 * hash independent of the shard's, and a slot hash is an order-independent sum of leaf digests
 * ({@link TreeHasher}). Formats 1 and 2 (slot = the shard's hash, slot hash = SHA-512 over the
 * ordered leaves) are still read so a node can say what it found, but never served or compared:
 * {@link RepairTrees} deletes and rebuilds them. Format 1's header starts {@code "ARBT" | u16 1}
 * instead of the FileFormat header, and its checksum covers the bytes from the magic on.
 */
final class TreeFileFormat {
  static final String KIND = "repair-tree";
  static final int VERSION = 3;
  /** The oldest FileFormat-enveloped version still read (to be recognised and rebuilt). */
  static final int OLDEST_ENVELOPED = 2;
  /** Format 1's magic. */
  static final byte[] LEGACY_MAGIC = {'A', 'R', 'B', 'T'};
  static final int LEGACY_VERSION = 1;
  static final byte[] FOOTER_MAGIC = {'T', 'B', 'R', 'A'};
  static final int SLOT_RECORD_SIZE = 4 + 8 + 8 + 4 + 4 + TreeHasher.HASH_LENGTH;
  static final int FOOTER_SIZE = 8 + 4 + 8 + TreeHasher.HASH_LENGTH + 4 + 4 + 4;
  /** Entities longer than this are treated as corruption when reading. */
  static final int MAX_ENTITY = 16 << 20;

  private TreeFileFormat() {}
}
