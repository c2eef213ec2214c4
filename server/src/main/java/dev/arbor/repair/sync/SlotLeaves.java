package dev.arbor.repair.sync;

import dev.arbor.repair.tree.ServedTree;
import dev.arbor.repair.tree.TreeLeaf;
import java.io.Closeable;
import java.io.IOException;
import java.util.Arrays;
import java.util.BitSet;
import java.util.NoSuchElementException;

/**
 * A forward cursor over one slot's leaves, optionally only those in some buckets. Kept open
 * across the pages of a session so paging a large slot reads its leaves once, not once per page.
 */
final class SlotLeaves implements Closeable {
  private final int slot;
  private final int bucketCount;
  private final BitSet buckets;
  private final ServedTree.SlotCursor it;
  private TreeLeaf next;
  private byte[] lastReturned;

  /** {@code buckets} null = every leaf of the slot. */
  SlotLeaves(ServedTree tree, int slot, int bucketCount, BitSet buckets) throws IOException {
    this.slot = slot;
    this.bucketCount = bucketCount;
    this.buckets = buckets;
    this.it = tree.leaves(slot);
  }

  int slot() {
    return slot;
  }

  /** True when this cursor serves the same slot and bucket set. */
  boolean serves(int slot, int bucketCount, BitSet buckets) {
    return this.slot == slot && this.bucketCount == bucketCount && java.util.Objects.equals(this.buckets, buckets);
  }

  /** The entity last returned (null before the first). */
  byte[] position() {
    return lastReturned;
  }

  boolean hasNext() {
    if (next != null) {
      return true;
    }
    if (it == null) {
      return false;
    }
    while (it.hasNext()) {
      TreeLeaf l = it.next();
      if (buckets == null || buckets.get(LeafBuckets.bucketOf(l.entityUtf8(), bucketCount))) {
        next = l;
        return true;
      }
    }
    return false;
  }

  /** The next leaf without consuming it. */
  TreeLeaf peek() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    return next;
  }

  TreeLeaf next() {
    TreeLeaf l = peek();
    next = null;
    lastReturned = l.entityUtf8();
    return l;
  }

  /** Skips leaves up to and including {@code entity}. */
  void skipThrough(byte[] entity) {
    while (hasNext() && Arrays.compareUnsigned(peek().entityUtf8(), entity) <= 0) {
      next();
    }
  }

  @Override
  public void close() {
    if (it != null) {
      it.close();
    }
  }
}
