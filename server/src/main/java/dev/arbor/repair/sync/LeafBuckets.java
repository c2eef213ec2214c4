package dev.arbor.repair.sync;

import dev.arbor.property.ShardRouter;
import dev.arbor.repair.tree.TreeLeaf;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Iterator;

/**
 * The level of the tree below the stored slots, computed on the fly: a slot's leaves split into
 * {@code bucketCount} buckets by entity hash. The slot of a leaf uses the low bits of
 * xxHash64(entity) (modulo the slot count); the bucket uses the high 32 bits, so buckets spread
 * evenly inside every slot. Both sides compute digests the same way and exchange only the
 * leaves of buckets whose digests differ.
 */
public final class LeafBuckets {
  /** Digest bytes per bucket on the wire. */
  public static final int DIGEST_BYTES = 8;
  /** Slots with at most this many leaves (on the larger side) are compared leaf by leaf. */
  public static final int DIRECT_COMPARE_MAX = 256;
  static final int MAX_BUCKETS = 4096;

  private LeafBuckets() {}

  public static int bucketOf(byte[] entityUtf8, int bucketCount) {
    long h = ShardRouter.xxHash64(entityUtf8) >>> 32;
    return (int) (h % bucketCount);
  }

  /**
   * Bucket count minimising digests plus leaves shipped for one differing bucket: about
   * sqrt(6·n) (8-byte digests, ~50-byte leaves), a power of two, 1..4096.
   */
  public static int bucketCountFor(long leaves) {
    long target = (long) Math.ceil(Math.sqrt(6.0 * Math.max(1, leaves)));
    int b = 1;
    while (b < target && b < MAX_BUCKETS) {
      b <<= 1;
    }
    return b;
  }

  /** Digests of every bucket of a slot, {@code bucketCount * DIGEST_BYTES} bytes (empty = zero). */
  public static byte[] digests(Iterator<TreeLeaf> slotLeaves, int bucketCount) {
    MessageDigest[] md = new MessageDigest[bucketCount];
    while (slotLeaves.hasNext()) {
      TreeLeaf l = slotLeaves.next();
      int b = bucketOf(l.entityUtf8(), bucketCount);
      if (md[b] == null) {
        md[b] = sha512();
      }
      md[b].update(l.entityUtf8());
      md[b].update(l.sha());
    }
    byte[] out = new byte[bucketCount * DIGEST_BYTES];
    for (int i = 0; i < bucketCount; i++) {
      if (md[i] != null) {
        System.arraycopy(md[i].digest(), 0, out, i * DIGEST_BYTES, DIGEST_BYTES);
      }
    }
    return out;
  }

  private static MessageDigest sha512() {
    try {
      return MessageDigest.getInstance("SHA-512");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-512 is required by the JDK", e);
    }
  }
}
