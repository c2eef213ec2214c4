package dev.arbor.repair.tree;

import dev.arbor.runtime.NodeRuntime;
import dev.arbor.runtime.Scheduler;
import dev.arbor.runtime.WallClock;
import dev.arbor.storage.StoreListener;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides when trees are built. A live tree ({@link RepairTrees}) follows every write, so for it a
 * build is a scrub: the scheduled run rebuilds every shard that changed since its last build and
 * compares. For shards not live (never built in this process, or after a purge or bulk attach):
 * on the schedule, soon after writes (one quick build per shard, {@code quickDelay} after the
 * first write since its last quick build; skipped when the next scheduled run is less than half
 * an interval away, unless the shard has no tree at all), and once at start-up for shards without
 * a usable tree. A live tree whose leaves written since its checkpoint outgrow the bound of
 * {@link RepairTrees#overlayFull} is scrubbed at once. Builds run on a small
 * bounded pool; a shard is queued at most once, so the queue never grows without bound.
 */
public final class TreeBuildScheduler implements StoreListener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TreeBuildScheduler.class);

  private final RepairTrees trees;
  private final BuildSchedule schedule;
  private final Duration quickDelay;
  private final Scheduler timer;
  private final ExecutorService builders;
  private final WallClock wallClock;
  /** Set at close: builds still queued then are dropped when their turn comes. */
  private volatile boolean closing;
  private final Map<String, Boolean> quickPending = new ConcurrentHashMap<>();
  private final Map<String, Boolean> queued = new ConcurrentHashMap<>();
  private volatile ZonedDateTime nextScheduled;
  final AtomicLong quickSkipped = new AtomicLong();
  final AtomicLong quickBuilds = new AtomicLong();

  /** On the system runtime (tests); a node passes its own. */
  public TreeBuildScheduler(RepairTrees trees, BuildSchedule schedule, Duration quickDelay, int threads) {
    this(NodeRuntime.system(), trees, schedule, quickDelay, threads);
  }

  /** @param runtime the node's wall clock (the schedule's) and the timer and builder threads */
  public TreeBuildScheduler(NodeRuntime runtime, RepairTrees trees, BuildSchedule schedule, Duration quickDelay,
      int threads) {
    this.trees = trees;
    this.schedule = schedule;
    this.quickDelay = quickDelay;
    this.wallClock = runtime.wallClock();
    this.timer = runtime.newScheduler("arbor-tree-timer");
    this.builders = runtime.newExecutor("arbor-tree-build", threads, 4096);
  }

  /** Runs {@code build} on a builder thread unless the scheduler closed while it was queued. */
  private void build(Runnable build) {
    builders.execute(() -> {
      if (!closing) {
        build.run();
      }
    });
  }

  /** Starts the schedule and builds, in the background, every shard that lacks a tree. */
  public void start() {
    scheduleNext();
    build(() -> trees.buildAll(false));
  }

  private void scheduleNext() {
    ZonedDateTime now = BuildSchedule.now(wallClock);
    nextScheduled = schedule.next(now);
    long delay = Math.max(0, Duration.between(now, nextScheduled).toMillis());
    try {
      timer.schedule(this::scheduledRun, Duration.ofMillis(delay));
    } catch (RejectedExecutionException stopped) {
      // shutting down
    }
  }

  private void scheduledRun() {
    try {
      for (var s : trees.pendingRebuilds()) {
        LOG.debug("scheduled build includes pending rebuild {}", s);
      }
      submitAll();
    } finally {
      scheduleNext();
    }
  }

  private void submitAll() {
    try {
      build(() -> trees.buildAll(false));
    } catch (RejectedExecutionException e) {
      LOG.warn("tree build queue full or stopped; scheduled build skipped");
    }
  }

  /**
   * Queues a build of one shard unless it is already queued or its tree is live (it follows every
   * write; the scheduled scrub checks it). Repair sessions call this after storing records.
   */
  public void submit(String group, int shard) {
    if (trees.isLive(group, shard)) {
      return;
    }
    queue(group, shard);
  }

  private void queue(String group, int shard) {
    String k = group + "/" + shard;
    if (queued.putIfAbsent(k, Boolean.TRUE) != null) {
      return;
    }
    try {
      build(() -> {
        queued.remove(k);
        trees.build(group, shard, false);
      });
    } catch (RejectedExecutionException e) {
      queued.remove(k);
      LOG.warn("tree build of {} not queued: {}", k, e.getMessage());
    }
  }

  @Override
  public void onWrite(String group, int shard) {
    if (trees.isLive(group, shard)) {
      // Kept current by the write itself; the scheduled run scrubs it, or sooner when the leaves
      // written since its checkpoint outgrow the bound (the scrub's build is the new checkpoint).
      if (trees.overlayFull(group, shard)) {
        queue(group, shard);
      }
      return;
    }
    String k = group + "/" + shard;
    if (quickPending.putIfAbsent(k, Boolean.TRUE) != null) {
      return;
    }
    try {
      timer.schedule(() -> quickBuild(group, shard, k), quickDelay);
    } catch (RejectedExecutionException stopped) {
      quickPending.remove(k);
    }
  }

  private void quickBuild(String group, int shard, String k) {
    quickPending.remove(k);
    ZonedDateTime now = BuildSchedule.now(wallClock);
    ZonedDateTime next = nextScheduled;
    // A shard without any tree is built now: sessions and the console have nothing to show for it.
    if (next != null && trees.summary(group, shard).isPresent()) {
      Duration untilNext = Duration.between(now, next);
      Duration interval = schedule.interval(now);
      if (untilNext.compareTo(interval.dividedBy(2)) < 0) {
        quickSkipped.incrementAndGet();
        return;
      }
    }
    quickBuilds.incrementAndGet();
    submit(group, shard);
  }

  @Override
  public void onGroupDropped(String group) {
    quickPending.keySet().removeIf(k -> k.startsWith(group + "/"));
  }

  @Override
  public void onShardDropped(String group, int shard) {
    quickPending.remove(group + "/" + shard);
  }

  /**
   * Stops timers, drops queued builds and waits (bounded) for running ones, which stop at their
   * next leaf. Builder threads are never interrupted: an interrupt inside Lucene I/O closes the
   * index's file channels.
   */
  @Override
  public void close() {
    closing = true;
    trees.stopBuilds();
    timer.close();
    builders.shutdown();
    try {
      if (!builders.awaitTermination(10, TimeUnit.SECONDS)) {
        LOG.warn("tree builds did not stop within 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
