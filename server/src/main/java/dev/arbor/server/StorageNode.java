package dev.arbor.server;

import dev.arbor.metadata.MetadataGroupIncarnations;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.observability.StoreMetrics;
import dev.arbor.observability.TreeMetrics;
import dev.arbor.property.HybridClock;
import dev.arbor.repair.tree.BuildSchedule;
import dev.arbor.runtime.NodeRuntime;
import dev.arbor.runtime.Scheduler;
import dev.arbor.runtime.WallClock;
import dev.arbor.repair.tree.RepairTrees;
import dev.arbor.repair.tree.TreeBuildScheduler;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardIndex;
import dev.arbor.storage.DiskUsageGuard;
import dev.arbor.storage.PurgeCutoff;
import dev.arbor.storage.StoreEvents;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.util.List;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The storage side of a node (standalone or data): the property store, its repair trees and
 * build triggers, and the background work (checkpoints, refreshes, tombstone purge).
 */
final class StorageNode implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StorageNode.class);
  /** Node-wide bytes of not-yet-searchable writes above which every shard is refreshed. */
  private static final long PENDING_REFRESH_BYTES = 64L << 20;
  /** A shard's pending writes are made searchable (and their memory freed) at least this often. */
  private static final long PENDING_MAX_AGE_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final ServerConfig config;
  private final HybridClock clock;
  private final PropertyStore store;
  private final RepairTrees trees;
  private final TreeBuildScheduler treeScheduler;
  private final DiskUsageGuard disk;
  private final Scheduler background;
  private final WallClock wallClock;

  private StorageNode(NodeRuntime runtime, ServerConfig config, HybridClock clock, PropertyStore store,
      RepairTrees trees, TreeBuildScheduler treeScheduler, DiskUsageGuard disk) {
    this.wallClock = runtime.wallClock();
    this.disk = disk;
    this.config = config;
    this.clock = clock;
    this.store = store;
    this.trees = trees;
    this.treeScheduler = treeScheduler;
    this.background = runtime.newScheduler("arbor-background");
  }

  /** Opens and recovers the store and loads the trees; nothing runs until {@link #start}. */
  static StorageNode open(NodeRuntime runtime, ServerConfig config, MetadataStore metadata, HybridClock clock,
      MeterRegistry registry) throws IOException {
    BuildSchedule treeSchedule = BuildSchedule.parse(config.trees().buildSchedule());
    StoreEvents events = new StoreEvents();
    DiskUsageGuard disk = new DiskUsageGuard(config.dataDir(), config.maxDiskUsagePercent(), runtime.ticker()::read);
    PropertyStore store = PropertyStore.open(config.dataDir(), new MetadataGroupIncarnations(metadata), events, disk,
        runtime);
    try {
      RepairTrees trees = new RepairTrees(runtime, config.dataDir().resolve("repair"), store, config.trees().slotCount(),
          config.trees().scrubLeavesPerSecond(), config.trees().maxOverlayLeaves());
      trees.loadExisting(g -> metadata.group(g).isPresent() && !store.quarantinedAtOpen().contains(g));
      trees.followWrites(events);
      TreeBuildScheduler scheduler = new TreeBuildScheduler(runtime,
          trees, treeSchedule, config.trees().quickBuildDelay(), config.trees().buildThreads());
      events.subscribe(scheduler);
      StoreMetrics.bind(store, registry);
      StoreMetrics.bind(disk, registry);
      TreeMetrics.bind(trees, registry);
      return new StorageNode(runtime, config, clock, store, trees, scheduler, disk);
    } catch (IOException | RuntimeException e) {
      store.close();
      throw e;
    }
  }

  /** The node runtime's wall clock. */
  dev.arbor.runtime.WallClock wallClock() {
    return wallClock;
  }

  PropertyStore store() {
    return store;
  }

  RepairTrees trees() {
    return trees;
  }

  /** Share of the data directory's file system in use, percent. */
  double diskUsedPercent() {
    return disk.usedPercent();
  }

  ServerConfig config() {
    return config;
  }

  TreeBuildScheduler treeScheduler() {
    return treeScheduler;
  }

  /** Tombstones purged on the grace alone: nothing to reconcile with (a standalone node). */
  PurgeCutoff graceOnly() {
    return PurgeCutoff.olderThan(clock::next, config.tombstoneGrace());
  }

  /**
   * Starts checkpoints, refreshes, tombstone purge and tree builds.
   *
   * @param purge which tombstones of each shard may go
   */
  void start(PurgeCutoff purge) {
    Duration cp = Duration.ofMillis(Math.max(1, config.checkpointInterval().toMillis()));
    background.scheduleWithFixedDelay(() -> guarded("checkpoint", store::checkpoint), cp, cp);
    // Searches refresh when they need to; this only bounds the memory of writes not yet visible
    // to searches, and the WAL a crash would replay. Refreshing on a byte budget rather than every
    // second lets bulk ingest (repair) fill Lucene's RAM buffer instead of flushing small segments.
    background.scheduleWithFixedDelay(() -> guarded("refresh", () -> {
      List<ShardIndex> shards = store.allShards();
      long pending = 0;
      for (var s : shards) {
        pending += s.pendingBytes();
      }
      boolean overBudget = pending > PENDING_REFRESH_BYTES;
      for (var s : shards) {
        if (overBudget || s.pendingAgeNanos() > PENDING_MAX_AGE_NANOS) {
          s.refresh();
        }
      }
      if (store.walBytesSinceCheckpoint() > config.checkpointWalBytes()) {
        store.checkpoint();
      }
    }), Duration.ofSeconds(1), Duration.ofSeconds(1));
    Duration purgeEvery = Duration.ofMillis(
        Math.max(1000, Math.min(config.tombstoneGrace().toMillis(), TimeUnit.HOURS.toMillis(1))));
    background.scheduleWithFixedDelay(
        () -> guarded("tombstone purge",
            () -> store.purgeTombstones(purge)),
        purgeEvery, purgeEvery);
    // Hourly is plenty for a retention counted in days; also once at start.
    background.scheduleWithFixedDelay(() -> guarded("quarantine purge", this::purgeQuarantine),
        Duration.ZERO, Duration.ofHours(1));
    treeScheduler.start();
  }

  private void purgeQuarantine() throws IOException {
    for (var e : store.quarantine().purgeOlderThan(wallClock.instant().minus(config.quarantineRetention()))) {
      LOG.warn("purged quarantined data of group {} (incarnation {}, set aside {}: {}) after --quarantine-retention {}",
          e.group(), e.incarnationText(), e.at(), e.reason(), config.quarantineRetention());
    }
  }

  private interface IoTask {
    void run() throws IOException;
  }

  private static void guarded(String what, IoTask task) {
    try {
      task.run();
    } catch (IOException | RuntimeException e) {
      LOG.error("background {} failed", what, e);
    }
  }

  /** Stops background work (no interrupts inside Lucene I/O), builds, then checkpoints and closes. */
  @Override
  public void close() {
    background.close();
    try {
      background.awaitTermination(Duration.ofSeconds(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    treeScheduler.close();
    trees.stopBuilds();
    try {
      // Before the trees close: the store's final checkpoint persists the live trees' journals.
      store.close();
    } catch (IOException | RuntimeException e) {
      LOG.error("closing storage failed; the write-ahead log will be replayed on next start", e);
    }
    trees.close();
  }
}
