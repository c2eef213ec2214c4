package dev.arbor.repair.coverage;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
import dev.arbor.storage.PurgeCutoff;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The purge rule of a data node. A shard of a group keeping one copy has nothing to reconcile:
 * its tombstones go after the grace. A shard of a replicated group purges a tombstone only when
 * it is older than the grace and than the shard's coverage watermark (less a margin), and only
 * while the watermark's ring still holds every current replica: a replica that joined since, or
 * one the covering round never reached, may still hold the live copy the tombstone must beat.
 * No watermark, no purge.
 *
 * <p>Delete times come from the liaison's clock, the watermark from the round origin's: the
 * margin absorbs their skew and the time a delete takes to land on its replicas. A tombstone
 * that reached a replica after the round started is left for the next round.
 */
public final class CoveragePurgeCutoff implements PurgeCutoff {
  private final ReplicaRings rings;
  private final WatermarkStore watermarks;
  private final LongSupplier nowNanos;
  private final long graceNanos;
  private final long marginNanos;
  /** Test-only: {@link Defect#PURGE_WITHOUT_COVERAGE} switched back on (never in production). */
  private final boolean graceAlone;

  public CoveragePurgeCutoff(ReplicaRings rings, WatermarkStore watermarks, LongSupplier nowNanos, Duration grace,
      Duration skewMargin) {
    this(rings, watermarks, nowNanos, grace, skewMargin, DefectSwitches.NONE);
  }

  /** As above; with the test-only {@link Defect#PURGE_WITHOUT_COVERAGE} on, every shard purges on the grace alone. */
  public CoveragePurgeCutoff(ReplicaRings rings, WatermarkStore watermarks, LongSupplier nowNanos, Duration grace,
      Duration skewMargin, DefectSwitches defects) {
    this.graceAlone = defects.has(Defect.PURGE_WITHOUT_COVERAGE);
    this.rings = rings;
    this.watermarks = watermarks;
    this.nowNanos = nowNanos;
    this.graceNanos = grace.toNanos();
    this.marginNanos = skewMargin.toNanos();
  }

  @Override
  public long cutoffNanos(String group, int shard) {
    Optional<Group> g = rings.group(group);
    if (g.isEmpty()) {
      return KEEP_ALL; // being dropped: nothing to gain
    }
    long byGrace = nowNanos.getAsLong() - graceNanos;
    if (!ReplicaRings.replicated(g.get()) || graceAlone) {
      return byGrace;
    }
    Optional<CoverageWatermark> w = watermarks.get(group, shard);
    if (w.isEmpty()) {
      return KEEP_ALL;
    }
    List<String> current;
    try {
      current = rings.ring(g.get(), shard);
    } catch (RuntimeException membershipUnknown) {
      return KEEP_ALL;
    }
    if (current.isEmpty() || !w.get().ring().containsAll(current)) {
      return KEEP_ALL;
    }
    return Math.min(byGrace, w.get().roundStartNanos() - marginNanos);
  }
}
