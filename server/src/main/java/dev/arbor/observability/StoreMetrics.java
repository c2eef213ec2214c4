package dev.arbor.observability;

import dev.arbor.storage.PropertyStore;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/** Storage gauges: WAL bytes and fsyncs (their ratio shows group commit at work), open shards. */
public final class StoreMetrics {
  private StoreMetrics() {}

  /** The disk guard: how full the data directory's file system is, and writes refused for it. */
  public static void bind(dev.arbor.storage.DiskUsageGuard disk, MeterRegistry registry) {
    Gauge.builder("arbor.storage.disk.used.percent", disk, dev.arbor.storage.DiskUsageGuard::usedPercent)
        .description("used share of the data directory's file system").register(registry);
    FunctionCounter.builder("arbor.storage.writes.refused", disk, dev.arbor.storage.DiskUsageGuard::refused)
        .description("writes refused because the disk was fuller than --max-disk-usage-percent").register(registry);
  }

  public static void bind(PropertyStore store, MeterRegistry registry) {
    FunctionCounter.builder("arbor.wal.written", store, PropertyStore::walBytes)
        .baseUnit("bytes").description("bytes appended to the write-ahead log").register(registry);
    FunctionCounter.builder("arbor.wal.syncs", store, PropertyStore::walSyncs)
        .description("write-ahead log fsyncs (one per group commit)").register(registry);
    FunctionCounter.builder("arbor.tombstones.purged", store, PropertyStore::purgedTombstones)
        .description("tombstones removed after the grace (and, when replicated, a covering repair round)")
        .register(registry);
    Gauge.builder("arbor.storage.failures", store, s -> s.storageProblems().size())
        .description("storage failures keeping this node from taking writes (failed WAL, shards with a fatal index error)")
        .register(registry);
    Gauge.builder("arbor.quarantined.groups", store, s -> s.quarantine().count())
        .description("group data sets in quarantine/: not served, kept until restored or purged").register(registry);
    Gauge.builder("arbor.shards.open", store, s -> s.allShards().size())
        .description("open (group, shard) indexes").register(registry);
  }
}
