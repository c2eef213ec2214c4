package dev.arbor.repair.tree;

import dev.arbor.property.ShardRouter;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Every hash of a repair tree, in one place. All hashes are SHA-512 (64 bytes, binary):
 *
 * <ul>
 *   <li><b>leaf</b>: the stored content hash of the key's latest version, tombstones included
 *       ({@link dev.arbor.property.ContentHash}: SHA-512 of canonical bytes ‖ delete time i64be).
 *   <li><b>slot of a leaf</b>: {@code xxHash64(utf8(entity), seed 0) mod slotCount}, unsigned.
 *   <li><b>slot hash</b>: SHA-512 over its leaves in ascending UTF-8 byte order of the entity, each
 *       leaf contributing {@code u32be(len(entityUtf8)) ‖ entityUtf8 ‖ leafSha[64]}. An empty slot
 *       hashes the empty input.
 *   <li><b>root hash</b>: SHA-512 over {@code u32be(slotCount)} then, for every slot index 0 ..
 *       slotCount−1 in order, {@code u32be(leafCount) ‖ slotHash[64]}. Empty slots take part, so
 *       every tree — the empty one too — has a well-defined root, and trees of different slot
 *       counts never compare equal.
 * </ul>
 */
public final class TreeHasher {
  public static final int HASH_LENGTH = 64;

  private TreeHasher() {}

  public static int slotOf(byte[] entityUtf8, int slotCount) {
    return (int) Long.remainderUnsigned(ShardRouter.xxHash64(entityUtf8), slotCount);
  }

  public static int slotOf(String entity, int slotCount) {
    return slotOf(entity.getBytes(StandardCharsets.UTF_8), slotCount);
  }

  /** A running slot hash: feed leaves in entity order, then {@link SlotDigest#finish()}. */
  public static SlotDigest slotDigest() {
    return new SlotDigest();
  }

  /** Hash of a slot with no leaves. */
  public static byte[] emptySlotHash() {
    return sha512().digest();
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

  /** Incremental hash of one slot's leaves. */
  public static final class SlotDigest {
    private final MessageDigest md = sha512();
    private int leaves;

    public void add(byte[] entityUtf8, byte[] leafSha) {
      md.update(u32(entityUtf8.length));
      md.update(entityUtf8);
      md.update(leafSha);
      leaves++;
    }

    public int leafCount() {
      return leaves;
    }

    public byte[] finish() {
      return md.digest();
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
