package dev.arbor.repair.tree;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * The incremental state of one shard's tree: a checkpoint (a tree file as built from a snapshot)
 * plus every leaf written since, with each slot's hash and leaf count kept current per write —
 * the slot hash is a sum of leaf digests, so a write subtracts its predecessor's digest and adds
 * its own. Not thread-safe: {@link RepairTrees} serialises access.
 */
final class LiveTree implements AutoCloseable {
  /** The sha of a leaf that no longer exists (identity-compared). */
  static final byte[] REMOVED = new byte[0];

  private final ServedTree checkpoint;
  private final int slotCount;
  private final long[][] lanes;
  private final int[] counts;
  private final List<TreeMap<byte[], byte[]>> written;
  private long writtenLeaves;
  /** Leaves written since the last capture (what the next journal block appends), and their slots. */
  private java.util.LinkedHashMap<ByteBuffer, byte[]> dirty = new java.util.LinkedHashMap<>();
  private final java.util.BitSet dirtySlots = new java.util.BitSet();

  /** Starts from {@code checkpoint}, which must be retained for this tree (released by {@link #close}). */
  LiveTree(ServedTree checkpoint) {
    this.checkpoint = checkpoint;
    TreeSummary s = checkpoint.summary();
    this.slotCount = s.header().slotCount();
    this.lanes = new long[slotCount][];
    this.counts = new int[slotCount];
    this.written = new ArrayList<>(slotCount);
    for (SlotSummary slot : s.slots()) {
      lanes[slot.index()] = lanesOf(slot.hash());
      counts[slot.index()] = slot.leafCount();
      written.add(new TreeMap<>(Arrays::compareUnsigned));
    }
  }

  /**
   * Resumes from a persisted {@code journal} of {@code checkpoint} (retained for this tree): slot
   * hashes, counts and leaves written as they were at the journal's capture.
   */
  LiveTree(ServedTree checkpoint, LiveJournal journal) {
    this.checkpoint = checkpoint;
    this.slotCount = checkpoint.summary().header().slotCount();
    this.lanes = new long[slotCount][];
    this.counts = journal.leafCounts().clone();
    this.written = new ArrayList<>(slotCount);
    for (int i = 0; i < slotCount; i++) {
      lanes[i] = lanesOf(journal.slotHashes()[i]);
      TreeMap<byte[], byte[]> w = new TreeMap<>(Arrays::compareUnsigned);
      w.putAll(journal.written().get(i));
      written.add(w);
      writtenLeaves += w.size();
    }
  }

  /**
   * The state now, to persist whole; {@code walSegment} is the WAL segment current at this instant.
   * Copies every leaf written since the checkpoint: {@link #captureDelta} is the cheap one.
   */
  LiveJournal capture(long walSegment) {
    dirty = new java.util.LinkedHashMap<>();
    dirtySlots.clear();
    TreeSummary base = checkpoint.summary();
    byte[][] hashes = new byte[slotCount][];
    List<TreeMap<byte[], byte[]>> copy = new ArrayList<>(slotCount);
    for (int i = 0; i < slotCount; i++) {
      hashes[i] = TreeHasher.slotHash(lanes[i]);
      copy.add(new TreeMap<>(written.get(i)));
    }
    return new LiveJournal(walSegment, base.header().snapshotId(), base.leafCount(), base.root(), hashes,
        counts.clone(), copy);
  }

  /**
   * What changed since the previous capture, and resets that: the leaves written meanwhile (handed
   * over, not copied) and the hashes and counts of their slots. Cost ∝ those leaves' slots.
   */
  LiveJournal.Delta captureDelta(long walSegment) {
    int[] slots = dirtySlots.stream().toArray();
    byte[][] hashes = new byte[slots.length][];
    int[] slotCounts = new int[slots.length];
    for (int i = 0; i < slots.length; i++) {
      hashes[i] = TreeHasher.slotHash(lanes[slots[i]]);
      slotCounts[i] = counts[slots[i]];
    }
    java.util.LinkedHashMap<ByteBuffer, byte[]> taken = dirty;
    dirty = new java.util.LinkedHashMap<>();
    dirtySlots.clear();
    List<byte[][]> entries = new ArrayList<>(taken.size());
    for (var e : taken.entrySet()) {
      entries.add(new byte[][] {e.getKey().array(), e.getValue()});
    }
    return new LiveJournal.Delta(walSegment, slots, hashes, slotCounts, entries);
  }

  /** The checkpoint this tree extends. */
  ServedTree checkpoint() {
    return checkpoint;
  }

  /**
   * Brings keys whose records the index holds now ({@code now}: entity → sha, null = no record)
   * up to date, whatever this tree believed of them: the current leaf is found in the leaves
   * written since the checkpoint, else in the checkpoint (each touched slot read once). Returns
   * how many leaves changed.
   */
  int reconcile(java.util.Map<byte[], byte[]> now) throws java.io.IOException {
    List<TreeMap<byte[], byte[]>> fromCheckpoint = new ArrayList<>(slotCount);
    for (int i = 0; i < slotCount; i++) {
      fromCheckpoint.add(new TreeMap<>(Arrays::compareUnsigned));
    }
    java.util.Map<byte[], byte[]> believed = new java.util.IdentityHashMap<>();
    for (var e : now.entrySet()) {
      int slot = TreeHasher.slotOf(e.getKey(), slotCount);
      byte[] w = written.get(slot).get(e.getKey());
      if (w != null) {
        believed.put(e.getKey(), w == REMOVED ? null : w);
      } else {
        fromCheckpoint.get(slot).put(e.getKey(), REMOVED);
      }
    }
    for (int slot = 0; slot < slotCount; slot++) {
      TreeMap<byte[], byte[]> wanted = fromCheckpoint.get(slot);
      if (wanted.isEmpty()) {
        continue;
      }
      try (ServedTree.SlotCursor c = checkpoint.leaves(slot)) {
        while (c.hasNext()) {
          TreeLeaf leaf = c.next();
          if (wanted.containsKey(leaf.entityUtf8())) {
            wanted.put(leaf.entityUtf8(), leaf.sha());
          }
        }
      }
    }
    int changed = 0;
    for (var e : now.entrySet()) {
      byte[] before;
      if (believed.containsKey(e.getKey())) {
        before = believed.get(e.getKey());
      } else {
        byte[] f = fromCheckpoint.get(TreeHasher.slotOf(e.getKey(), slotCount)).get(e.getKey());
        before = f == REMOVED ? null : f;
      }
      byte[] after = e.getValue();
      if (before == null ? after == null : (after != null && Arrays.equals(before, after))) {
        continue;
      }
      apply(e.getKey(), before, after);
      changed++;
    }
    return changed;
  }

  private static long[] lanesOf(byte[] slotHash) {
    ByteBuffer b = ByteBuffer.wrap(slotHash);
    long[] l = new long[slotHash.length / Long.BYTES];
    for (int i = 0; i < l.length; i++) {
      l[i] = b.getLong();
    }
    return l;
  }

  /** One write: {@code entity} went from {@code before} (null: absent) to {@code after} (null: removed). */
  void apply(byte[] entity, byte[] before, byte[] after) {
    int slot = TreeHasher.slotOf(entity, slotCount);
    if (before != null) {
      TreeHasher.accumulate(lanes[slot], TreeHasher.leafDigest(entity, before), -1);
      counts[slot]--;
    }
    if (after != null) {
      TreeHasher.accumulate(lanes[slot], TreeHasher.leafDigest(entity, after), 1);
      counts[slot]++;
    }
    byte[] now = after == null ? REMOVED : after;
    if (written.get(slot).put(entity, now) == null) {
      writtenLeaves++;
    }
    dirty.put(ByteBuffer.wrap(entity), now);
    dirtySlots.set(slot);
  }

  /** Leaves written since the checkpoint (each key once). */
  long writtenLeaves() {
    return writtenLeaves;
  }

  TreeSummary summary() {
    TreeSummary base = checkpoint.summary();
    List<SlotSummary> slots = new ArrayList<>(slotCount);
    byte[][] hashes = new byte[slotCount][];
    long total = 0;
    for (int i = 0; i < slotCount; i++) {
      hashes[i] = TreeHasher.slotHash(lanes[i]);
      SlotSummary b = base.slots().get(i);
      slots.add(new SlotSummary(i, hashes[i], counts[i], b.leavesOffset(), b.leavesLength(), b.leavesCrc()));
      total += counts[i];
    }
    return new TreeSummary(base.header(), TreeHasher.rootHash(counts.clone(), hashes), List.copyOf(slots), total);
  }

  /** A frozen view for a session (close it when done). */
  ServedTree view() {
    if (!checkpoint.retain()) {
      throw new IllegalStateException("checkpoint of a live tree was closed");
    }
    List<NavigableMap<byte[], byte[]>> copy = new ArrayList<>(slotCount);
    for (TreeMap<byte[], byte[]> w : written) {
      copy.add(w.isEmpty() ? null : new TreeMap<>(w));
    }
    return ServedTree.view(checkpoint, summary(), copy);
  }

  @Override
  public void close() {
    checkpoint.close();
  }
}
