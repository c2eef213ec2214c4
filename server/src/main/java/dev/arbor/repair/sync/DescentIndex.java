package dev.arbor.repair.sync;

import dev.arbor.property.ShardRouter;
import dev.arbor.repair.tree.ServedTree;
import dev.arbor.repair.tree.TreeLeaf;
import java.io.IOException;
import java.util.Arrays;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * One slot's leaves as protocol 2 descends into them, built once per session and slot: the
 * leaves sorted by the high 32 bits of xxHash64(entity), so every node (depth, prefix) is a
 * contiguous range, with prefix sums of their leaf hashes, so a node's sum and size cost two
 * binary searches. 24 bytes per leaf (48 while it is built); a leaf is named by its ordinal
 * (position in the slot's entity order, the order {@link ServedTree#leaves} yields). Optionally
 * keeps every leaf's entity too (about 60 bytes per leaf), so the few leaves a descent pushes or
 * lists are named without a second pass over the slot.
 */
final class DescentIndex {
  private static final XXHash64 XX = XXHashFactory.fastestJavaInstance().hash64();

  final int slot;
  /** Sorted: (h32 ^ 0x80000000) << 32 | ordinal, so signed order is unsigned h32 order. */
  private final long[] keys;
  /** prefix[i] = sum of the leaf hashes at ranks 0..i-1. */
  private final long[] prefix;
  /** xxHash64(entity) by rank (the listing names leaves with it). */
  private final long[] entityHash;
  /** UTF-8 entity by ordinal; null when not kept. */
  private final byte[][] entities;

  private DescentIndex(int slot, long[] keys, long[] prefix, long[] entityHash, byte[][] entities) {
    this.slot = slot;
    this.keys = keys;
    this.prefix = prefix;
    this.entityHash = entityHash;
    this.entities = entities;
  }

  /** Reads the slot's leaves from the session's frozen tree, keeping their entities when asked. */
  static DescentIndex of(ServedTree tree, int slot, int expected, boolean keepEntities) throws IOException {
    long[] keys = new long[Math.max(16, expected)];
    long[] ehash = new long[keys.length];
    long[] lhash = new long[keys.length];
    byte[][] ents = keepEntities ? new byte[keys.length][] : null;
    int n = 0;
    if (!tree.isEmpty()) {
      try (ServedTree.SlotCursor it = tree.leaves(slot)) {
        while (it.hasNext()) {
          TreeLeaf l = it.next();
          if (n == keys.length) {
            keys = Arrays.copyOf(keys, n * 2);
            ehash = Arrays.copyOf(ehash, n * 2);
            lhash = Arrays.copyOf(lhash, n * 2);
            if (ents != null) {
              ents = Arrays.copyOf(ents, n * 2);
            }
          }
          if (ents != null) {
            ents[n] = l.entityUtf8();
          }
          long eh = ShardRouter.xxHash64(l.entityUtf8());
          ehash[n] = eh;
          lhash[n] = leafHash(eh, l.sha());
          keys[n] = ((eh >>> 32) ^ 0x80000000L) << 32 | n;
          n++;
        }
      }
    }
    long[] sorted = Arrays.copyOf(keys, n);
    Arrays.sort(sorted);
    long[] prefix = new long[n + 1];
    long[] byRank = new long[n];
    for (int r = 0; r < n; r++) {
      int ord = (int) sorted[r];
      prefix[r + 1] = prefix[r] + lhash[ord];
      byRank[r] = ehash[ord];
    }
    return new DescentIndex(slot, sorted, prefix, byRank, ents == null ? null : Arrays.copyOf(ents, n));
  }

  /** True when {@link #entity} answers without reading the slot again. */
  boolean keepsEntities() {
    return entities != null;
  }

  /** The UTF-8 entity of the leaf with this ordinal (only when {@link #keepsEntities}). */
  byte[] entity(int ordinal) {
    return entities[ordinal];
  }

  /** The hash a leaf adds to its nodes' sums: binds the entity and its version's content hash. */
  static long leafHash(long entityHash, byte[] sha) {
    return XX.hash(sha, 0, sha.length, entityHash);
  }

  int size() {
    return keys.length;
  }

  /** Leaves per side whose entities a session keeps (about 60 bytes each); larger groups read twice. */
  static final long KEPT_ENTITIES = 1L << 18;

  /** First rank of the node (depth, prefix). */
  int from(int depth, long prefix) {
    return lowerBound(prefix << (32 - depth));
  }

  /** End rank (exclusive) of the node (depth, prefix). */
  int to(int depth, long prefix) {
    return lowerBound((prefix + 1) << (32 - depth));
  }

  long sum(int from, int to) {
    return prefix[to] - prefix[from];
  }

  long leafHashAt(int rank) {
    return prefix[rank + 1] - prefix[rank];
  }

  long entityHashAt(int rank) {
    return entityHash[rank];
  }

  int ordinalAt(int rank) {
    return (int) keys[rank];
  }

  /** First rank whose h32 is ≥ {@code h} (h up to 2^32: past the end). */
  private int lowerBound(long h) {
    if (h >= 1L << 32) {
      return keys.length;
    }
    long key = (h ^ 0x80000000L) << 32;
    int lo = 0;
    int hi = keys.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (keys[mid] < key) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** The depth at which nodes are listed: about one leaf per node on the larger side. */
  static int listDepth(long largerCount) {
    int d = 0;
    while (d < 32 && (1L << d) < largerCount) {
      d++;
    }
    return d;
  }
}
