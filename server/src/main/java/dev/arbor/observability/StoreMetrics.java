package dev.arbor.observability;

import dev.arbor.storage.PropertyStore;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/** Storage gauges: WAL bytes and fsyncs (their ratio shows group commit at work), open shards. */
public final class StoreMetrics {
  private StoreMetrics() {}

  public static void bind(PropertyStore store, MeterRegistry registry) {
    FunctionCounter.builder("arbor.wal.written", store, PropertyStore::walBytes)
        .baseUnit("bytes").description("bytes appended to the write-ahead log").register(registry);
    FunctionCounter.builder("arbor.wal.syncs", store, PropertyStore::walSyncs)
        .description("write-ahead log fsyncs (one per group commit)").register(registry);
    FunctionCounter.builder("arbor.tombstones.purged", store, PropertyStore::purgedTombstones)
        .description("tombstones removed after the grace (and, when replicated, a covering repair round)")
        .register(registry);
    Gauge.builder("arbor.quarantined.groups", store, s -> s.quarantine().count())
        .description("group data sets in quarantine/: not served, kept until restored or purged").register(registry);
    Gauge.builder("arbor.shards.open", store, s -> s.allShards().size())
        .description("open (group, shard) indexes").register(registry);
  }
}
