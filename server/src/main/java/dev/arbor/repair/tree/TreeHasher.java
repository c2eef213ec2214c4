package dev.arbor.repair.tree;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Every hash of a repair tree, in one place (tree file format 3):
 *
 * <ul>
 *   <li><b>leaf</b>: the stored content hash of the key's latest version, tombstones included
 *       ({@link dev.arbor.property.ContentHash}: SHA-512 of canonical bytes ‖ delete time i64be).
 *   <li><b>slot of a leaf</b>: {@code xxHash64(utf8(entity), seed SLOT_SEED) mod slotCount},
 *       unsigned. The shard of an entity is {@code xxHash64(.., seed 0) mod shardNum}; a slot
 *       drawn from the same hash would give a shard only {@code slots / gcd(slots, shardNum)} of
 *       its slots (one of 32 with 32 shards). A differently seeded xxHash64 is as cheap as the
 *       shard hash and its output is independent of it (the seed enters every accumulator
 *       before the input), so every shard spreads over every slot.
 *   <li><b>leaf digest</b>: {@code SHA-512(u32be(len(entityUtf8)) ‖ entityUtf8 ‖ leafSha[64])}.
 *   <li><b>slot hash</b>: the sum of its leaves' digests, read as eight u64be lanes each summed
 *       modulo 2^64 (64 bytes). Order-independent and subtractable, so a write updates it in
 *       constant time (subtract the old leaf's digest, add the new one) instead of rehashing the
 *       slot. An empty slot hashes to 64 zero bytes.
 *   <li><b>root hash</b>: SHA-512 over {@code u32be(slotCount)} then, for every slot index 0 ..
 *       slotCount−1 in order, {@code u32be(leafCount) ‖ slotHash[64]}. Empty slots take part, so
 *       every tree — the empty one too — has a well-defined root, and trees of different slot
 *       counts never compare equal.
 * </ul>
 */
public final class TreeHasher {
  public static final int HASH_LENGTH = 64;
  /** Seed of the slot hash ("slot" in ASCII); anything but the shard hash's seed 0. */
  static final long SLOT_SEED = 0x736c6f74L;
  private static final int LANES = HASH_LENGTH / Long.BYTES;
  private static final XXHash64 XX = XXHashFactory.fastestJavaInstance().hash64();

  private TreeHasher() {}

  public static int slotOf(byte[] entityUtf8, int slotCount) {
    return (int) Long.remainderUnsigned(XX.hash(entityUtf8, 0, entityUtf8.length, SLOT_SEED), slotCount);
  }

  public static int slotOf(String entity, int slotCount) {
    return slotOf(entity.getBytes(StandardCharsets.UTF_8), slotCount);
  }

  /** A running slot hash: feed leaves in any order, then {@link SlotDigest#finish()}. */
  public static SlotDigest slotDigest() {
    return new SlotDigest();
  }

  /** Hash of a slot with no leaves. */
  public static byte[] emptySlotHash() {
    return new byte[HASH_LENGTH];
  }

  /** The digest one leaf contributes to its slot's hash, as eight lanes. */
  public static long[] leafDigest(byte[] entityUtf8, byte[] leafSha) {
    MessageDigest md = sha512();
    md.update(u32(entityUtf8.length));
    md.update(entityUtf8);
    md.update(leafSha);
    ByteBuffer b = ByteBuffer.wrap(md.digest());
    long[] lanes = new long[LANES];
    for (int i = 0; i < LANES; i++) {
      lanes[i] = b.getLong();
    }
    return lanes;
  }

  /** Adds ({@code sign} 1) or subtracts ({@code sign} −1) a leaf digest to a slot's lanes. */
  public static void accumulate(long[] slotLanes, long[] leafLanes, int sign) {
    for (int i = 0; i < LANES; i++) {
      slotLanes[i] += sign * leafLanes[i];
    }
  }

  /** Fresh lanes of an empty slot. */
  public static long[] emptyLanes() {
    return new long[LANES];
  }

  /** The slot hash bytes of a slot's lanes. */
  public static byte[] slotHash(long[] lanes) {
    ByteBuffer b = ByteBuffer.allocate(HASH_LENGTH);
    for (long l : lanes) {
      b.putLong(l);
    }
    return b.array();
  }

  /** Root over slot summaries given in index order (one per slot, empty ones included). */
  public static byte[] rootHash(int[] leafCounts, byte[][] slotHashes) {
    MessageDigest md = sha512();
    md.update(u32(leafCounts.length));
    for (int i = 0; i < leafCounts.length; i++) {
      md.update(u32(leafCounts[i]));
      md.update(slotHashes[i]);
    }
    return md.digest();
  }

  /** The root of a tree with no leaves at all. */
  public static byte[] emptyRoot(int slotCount) {
    int[] counts = new int[slotCount];
    byte[][] hashes = new byte[slotCount][];
    byte[] empty = emptySlotHash();
    for (int i = 0; i < slotCount; i++) {
      hashes[i] = empty;
    }
    return rootHash(counts, hashes);
  }

  /** Running hash of one slot's leaves. */
  public static final class SlotDigest {
    private final long[] lanes = emptyLanes();
    private int leaves;

    public void add(byte[] entityUtf8, byte[] leafSha) {
      accumulate(lanes, leafDigest(entityUtf8, leafSha), 1);
      leaves++;
    }

    public int leafCount() {
      return leaves;
    }

    public byte[] finish() {
      return slotHash(lanes);
    }
  }

  static byte[] u32(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  static MessageDigest sha512() {
    try {
      return MessageDigest.getInstance("SHA-512");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-512 is required by the Java platform", e);
    }
  }

  public static String hex(byte[] b) {
    return java.util.HexFormat.of().formatHex(b);
  }
}
