package dev.arbor.repair;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.repair.coverage.CoverageWatermark;
import dev.arbor.repair.coverage.ReplicaRings;
import dev.arbor.repair.coverage.WatermarkStore;
import dev.arbor.repair.tree.BuildSchedule;
import dev.arbor.runtime.NodeRuntime;
import dev.arbor.runtime.Scheduler;
import dev.arbor.runtime.ThreadSource;
import dev.arbor.runtime.Ticker;
import dev.arbor.runtime.WallClock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background repair trigger of a node. Tombstones of a replicated shard are purged only
 * after a round covered the shard (its coverage watermark), so every shard needs a covering round
 * well within the tombstone grace; a random pick cannot promise that. At each fire time of its
 * schedule the node starts rounds, oldest watermark first and at most {@code workers} at once
 * (the next starts when one ends), for:
 * <ul>
 *   <li>the shards it is the first replica of in placement order, unless covered since the
 *       middle of the last interval (a manual round, another node's): one scheduling node per
 *       shard, so rounds do not pile up on the same shard;
 *   <li>any shard it is a replica of whose coverage is older than half the grace, whoever comes
 *       first: the takeover when the first replica is not scheduling (schedule off there, its
 *       rounds failing, its notices lost).
 * </ul>
 * A shard this node holds no watermark for counts as covered when the trigger started, so a
 * fresh cluster is not flooded with takeovers.
 */
public final class RepairTrigger implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RepairTrigger.class);
  /** How far ahead the schedule is checked against the grace at start. */
  private static final int GAP_CHECK_FIRES = 10_000;

  private final String self;
  private final BuildSchedule schedule;
  private final ReplicaRings rings;
  private final WatermarkStore watermarks;
  private final RepairRounds rounds;
  private final int workers;
  private final Duration grace;
  private final LongSupplier nowNanos;
  private final long startedNanos;
  private Long previousFireNanos;
  /** Set by {@link #close}: a firing under way starts no further round (its timer thread is not interrupted). */
  private volatile boolean closed;
  private final WallClock wallClock;
  private final Scheduler timer;

  /**
   * @param workers rounds of this trigger running at once (the node's repair workers)
   * @param grace the tombstone grace the schedule must cover twice over
   * @param nowNanos wall clock, ns since the epoch (the watermarks' clock)
   */
  public RepairTrigger(String self, BuildSchedule schedule, ReplicaRings rings, WatermarkStore watermarks,
      RepairRounds rounds, int workers, Duration grace, LongSupplier nowNanos) {
    this(new NodeRuntime(Ticker.system(), nowNanos::getAsLong, ThreadSource.system(), Duration.ofSeconds(30)), self,
        schedule, rings, watermarks, rounds, workers, grace);
  }

  /**
   * @param runtime the node's wall clock (the watermarks' clock, and the schedule's) and its timer
   * @param workers rounds of this trigger running at once (the node's repair workers)
   * @param grace the tombstone grace the schedule must cover twice over
   */
  public RepairTrigger(NodeRuntime runtime, String self, BuildSchedule schedule, ReplicaRings rings,
      WatermarkStore watermarks, RepairRounds rounds, int workers, Duration grace) {
    if (workers < 1) {
      throw new IllegalArgumentException("workers must be >= 1");
    }
    this.self = self;
    this.schedule = schedule;
    this.rings = rings;
    this.watermarks = watermarks;
    this.rounds = rounds;
    this.workers = workers;
    this.grace = grace;
    this.wallClock = runtime.wallClock();
    this.nowNanos = wallClock::nanos;
    this.startedNanos = nowNanos.getAsLong();
    this.timer = runtime.newScheduler("arbor-repair-trigger");
  }

  public void start() {
    Duration gap = longestGap(schedule, BuildSchedule.now(wallClock), grace.multipliedBy(2));
    if (gap.compareTo(grace.dividedBy(2)) > 0) {
      LOG.warn("!!! --repair-schedule leaves up to {} between two fire times, more than half the tombstone grace "
          + "({} of {}): shards may go without a covering repair round for longer than the grace allows, and "
          + "their tombstones then pile up unpurged. Schedule repair at least every {}.", gap,
          grace.dividedBy(2), grace, grace.dividedBy(2));
    }
    scheduleNext();
  }

  /**
   * The longest time between two consecutive fire times of {@code schedule} from {@code from}
   * over {@code horizon} (or the first {@value #GAP_CHECK_FIRES} fire times, for frequent ones).
   */
  public static Duration longestGap(BuildSchedule schedule, ZonedDateTime from, Duration horizon) {
    ZonedDateTime end = from.plus(horizon);
    ZonedDateTime t = from;
    Duration longest = Duration.ZERO;
    for (int i = 0; i < GAP_CHECK_FIRES && !t.isAfter(end); i++) {
      ZonedDateTime n = schedule.next(t);
      Duration d = Duration.between(t, n);
      if (d.compareTo(longest) > 0) {
        longest = d;
      }
      t = n;
    }
    return longest;
  }

  private void scheduleNext() {
    ZonedDateTime now = BuildSchedule.now(wallClock);
    long delay = Math.max(0, Duration.between(now, schedule.next(now)).toMillis());
    try {
      timer.schedule(this::fire, Duration.ofMillis(delay));
    } catch (RejectedExecutionException stopped) {
      // shutting down
    }
  }

  private void fire() {
    try {
      fireOnce();
    } catch (InterruptedException e) {
      return; // closing
    } catch (RuntimeException e) {
      LOG.warn("scheduled repair could not run: {}", e.getMessage());
    }
    scheduleNext();
  }

  /** A shard due for a round at this firing. */
  record Due(String group, int shard, long coveredNanos, boolean takeover) {}

  /**
   * Runs one firing: starts the rounds due now and waits until they ended.
   *
   * @return the rounds started, all ended
   */
  public synchronized List<RepairRounds.Round> fireOnce() throws InterruptedException {
    long now = nowNanos.getAsLong();
    List<Due> due = due(now);
    previousFireNanos = now;
    if (due.isEmpty()) {
      LOG.info("scheduled repair: no shard this node schedules needs a round");
      return List.of();
    }
    LOG.info("scheduled repair: {} round(s) due, {} at a time", due.size(), workers);
    Semaphore slots = new Semaphore(workers);
    List<RepairRounds.Round> started = new ArrayList<>();
    List<CompletableFuture<?>> ends = new ArrayList<>();
    for (Due d : due) {
      slots.acquire();
      if (closed) {
        slots.release();
        break;
      }
      try {
        RepairRounds.Round r = rounds.start(d.group(), d.shard(), null, d.takeover() ? "takeover" : "schedule");
        started.add(r);
        ends.add(r.outcome().whenComplete((o, e) -> slots.release()));
      } catch (RuntimeException e) {
        slots.release();
        LOG.warn("scheduled repair of {}/{} could not start: {}", d.group(), d.shard(), e.getMessage());
      }
    }
    for (CompletableFuture<?> e : ends) {
      try {
        e.get();
      } catch (java.util.concurrent.ExecutionException ignored) {
        // an outcome is always set; nothing to add
      }
    }
    return started;
  }

  private List<Due> due(long now) {
    // A primary skips shards covered since the middle of its last interval: after a manual
    // round, not after the round it started itself at the previous firing.
    long fresh = previousFireNanos == null ? 0 : (now - previousFireNanos) / 2;
    long takeoverAge = grace.toNanos() / 2;
    List<Due> out = new ArrayList<>();
    for (Group g : rings.replicatedGroups()) {
      String group = g.getMetadata().getName();
      for (int shard = 0; shard < g.getResourceOpts().getShardNum(); shard++) {
        List<String> ring;
        try {
          ring = rings.ring(g, shard);
        } catch (RuntimeException e) {
          continue;
        }
        if (ring.size() < 2 || !ring.contains(self)) {
          continue;
        }
        Optional<CoverageWatermark> w = watermarks.get(group, shard);
        long covered = w.map(CoverageWatermark::roundStartNanos).orElse(Long.MIN_VALUE);
        long age = now - (w.isPresent() ? covered : startedNanos);
        if (ring.get(0).equals(self)) {
          if (w.isEmpty() || now - covered >= fresh) {
            out.add(new Due(group, shard, covered, false));
          }
        } else if (age >= takeoverAge) {
          LOG.warn("{}/{} has had no covering repair round for {}s (first replica {}); this node starts one",
              group, shard, age / 1_000_000_000L, ring.get(0));
          out.add(new Due(group, shard, covered, true));
        }
      }
    }
    out.sort(Comparator.comparingLong(Due::coveredNanos));
    return out;
  }

  @Override
  public void close() {
    closed = true;
    timer.close();
  }
}
