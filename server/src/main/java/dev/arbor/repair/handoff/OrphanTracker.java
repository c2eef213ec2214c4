package dev.arbor.repair.handoff;

import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
import dev.arbor.storage.CopyFence;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which copies of this node are orphans. A copy becomes one when this node has been out of the
 * shard's placement for the debounce period, or when the node was away too long (the fence at
 * start). Once an orphan, a copy stays one until it is dropped, even if the node owns the shard
 * again meanwhile: it missed the writes of its absence, so it is never reused.
 */
public final class OrphanTracker implements CopyFence {
  private static final Logger LOG = LoggerFactory.getLogger(OrphanTracker.class);

  private final CopyOwnership ownership;
  private final Supplier<List<ShardRef>> held;
  private final long debounceNanos;
  private final LongSupplier nanoTime;
  private final Map<ShardRef, Long> outSince = new ConcurrentHashMap<>();
  private final Map<ShardRef, String> orphans = new ConcurrentHashMap<>();
  /** Test-only: {@link Defect#ORPHAN_SERVES} switched back on (never in production). */
  private final boolean neverOrphan;

  /**
   * @param held the shard copies this node holds now
   * @param nanoTime a monotonic clock
   */
  public OrphanTracker(CopyOwnership ownership, Supplier<List<ShardRef>> held, Duration debounce,
      LongSupplier nanoTime) {
    this(ownership, held, debounce, nanoTime, DefectSwitches.NONE);
  }

  /**
   * As above; with the test-only {@link Defect#ORPHAN_SERVES} on, no copy ever becomes an orphan
   * (not fenced, not handed off, not dropped: it serves and repairs as before the fix).
   */
  public OrphanTracker(CopyOwnership ownership, Supplier<List<ShardRef>> held, Duration debounce,
      LongSupplier nanoTime, DefectSwitches defects) {
    this.neverOrphan = defects.has(Defect.ORPHAN_SERVES);
    this.ownership = ownership;
    this.held = held;
    this.debounceNanos = debounce.toNanos();
    this.nanoTime = nanoTime;
  }

  /** Compares placement with the copies held; returns the copies that became orphans now. */
  public synchronized List<ShardRef> scan() {
    if (neverOrphan) {
      return List.of();
    }
    long now = nanoTime.getAsLong();
    Set<ShardRef> present = new HashSet<>();
    List<ShardRef> found = new ArrayList<>();
    for (ShardRef s : held.get()) {
      present.add(s);
      Optional<Boolean> owns = ownership.owns(s);
      if (owns.isEmpty() || owns.get()) {
        outSince.remove(s);
        continue;
      }
      long since = outSince.computeIfAbsent(s, k -> now);
      if (now - since >= debounceNanos && !orphans.containsKey(s)) {
        orphans.put(s, "this node left the placement of " + s);
        LOG.warn("copy {} is an orphan: this node has been out of the shard's placement for {} ms; it is fenced, "
            + "its recent records go to the owners, then it is dropped", s, (now - since) / 1_000_000);
        found.add(s);
      }
    }
    outSince.keySet().retainAll(present);
    return found;
  }

  /** Makes a copy an orphan at once (the long-absence fence). */
  public void mark(ShardRef s, String why) {
    if (neverOrphan) {
      return;
    }
    orphans.putIfAbsent(s, why);
  }

  /** The copy was dropped: a new copy of the shard starts clean. */
  public void forget(ShardRef s) {
    orphans.remove(s);
    outSince.remove(s);
  }

  public Set<ShardRef> orphans() {
    return Set.copyOf(orphans.keySet());
  }

  @Override
  public String refusal(String group, int shard) {
    String why = orphans.get(new ShardRef(group, shard));
    return why == null ? null : "this node's copy of " + group + "/" + shard + " is an orphan (" + why
        + "): it may lack later deletes and is being handed to the owners, then dropped";
  }
}
