package dev.arbor.storage;

/**
 * Up to when the tombstones of a shard may be physically removed. Storage knows only delete
 * times; whether every replica already holds a delete is decided above it (repair coverage).
 */
@FunctionalInterface
public interface PurgeCutoff {
  /** Keep every tombstone of the shard. */
  long KEEP_ALL = Long.MIN_VALUE;

  /** Tombstones of (group, shard) deleted at or before the returned time (ns) may be purged. */
  long cutoffNanos(String group, int shard);

  /** Tombstones go once older than {@code grace}: for data nobody else holds a copy of. */
  static PurgeCutoff olderThan(java.util.function.LongSupplier nowNanos, java.time.Duration grace) {
    long g = grace.toNanos();
    return (group, shard) -> nowNanos.getAsLong() - g;
  }
}
