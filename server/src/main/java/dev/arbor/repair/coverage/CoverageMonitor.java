package dev.arbor.repair.coverage;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.runtime.NodeRuntime;
import dev.arbor.runtime.Scheduler;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the coverage of the replicated shards this node holds: publishes each one's age
 * (since its watermark) and warns once a shard gets close to the tombstone grace without a
 * covering round, while tombstones can still be purged safely if one comes. A warning is logged
 * when a shard becomes overdue and again when it recovers, not at every check.
 */
public final class CoverageMonitor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CoverageMonitor.class);

  private final String self;
  private final ReplicaRings rings;
  private final WatermarkStore watermarks;
  private final CoverageObserver observer;
  private final LongSupplier nowNanos;
  private final long overdueNanos;
  private final long watchingSince;
  private final Set<String> overdue = new HashSet<>();
  private final Scheduler timer;

  /** @param runtime the node's wall clock (the watermarks' clock) and its timer */
  public CoverageMonitor(NodeRuntime runtime, String self, ReplicaRings rings, WatermarkStore watermarks,
      CoverageObserver observer, Duration grace) {
    this.timer = runtime.newScheduler("arbor-coverage-monitor");
    LongSupplier nowNanos = runtime.wallClock()::nanos;
    this.self = self;
    this.rings = rings;
    this.watermarks = watermarks;
    this.observer = observer;
    this.nowNanos = nowNanos;
    this.overdueNanos = grace.toNanos() / 4 * 3;
    this.watchingSince = nowNanos.getAsLong();
  }

  /** Checks now and then periodically, often enough to see a shard turn overdue well before the grace. */
  public void start(Duration grace) {
    long every = Math.max(100, Math.min(TimeUnit.MINUTES.toMillis(1), grace.toMillis() / 16));
    timer.scheduleWithFixedDelay(this::checkGuarded, Duration.ZERO, Duration.ofMillis(every));
  }

  private void checkGuarded() {
    try {
      check();
    } catch (RuntimeException e) {
      LOG.warn("coverage check failed: {}", e.getMessage());
    }
  }

  /** One pass over the replicated shards this node is a replica of. */
  public synchronized void check() {
    long now = nowNanos.getAsLong();
    for (Group g : rings.replicatedGroups()) {
      String group = g.getMetadata().getName();
      for (int shard = 0; shard < g.getResourceOpts().getShardNum(); shard++) {
        List<String> ring = rings.ring(g, shard);
        if (!ring.contains(self)) {
          continue;
        }
        Optional<CoverageWatermark> w = watermarks.get(group, shard);
        long age = now - w.map(CoverageWatermark::roundStartNanos).orElse(watchingSince);
        boolean late = age > overdueNanos;
        observer.shardCoverage(group, shard, age / 1e9, late);
        String key = group + "/" + shard;
        if (late && overdue.add(key)) {
          LOG.warn("repair coverage overdue: {} has had no repair round covering all its replicas {} for {}s "
              + "(warning at 3/4 of the tombstone grace); its tombstones are not purged until one completes. "
              + "Check that every replica is up and that --repair-schedule runs", key, ring,
              age / 1_000_000_000L);
        } else if (!late && overdue.remove(key)) {
          LOG.info("repair coverage of {} is back within the grace", key);
        }
      }
    }
  }

  @Override
  public void close() {
    timer.close();
  }
}
