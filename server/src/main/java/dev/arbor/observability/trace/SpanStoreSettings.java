package dev.arbor.observability.trace;

import java.time.Duration;
import java.util.Objects;

/**
 * Tuning of a {@link SpanStore}. Only the retention is an operator flag; the rest is fixed in
 * production and shrunk by tests.
 *
 * @param retention spans that started longer ago are purged and never returned
 * @param bufferCapacity spans held in memory before the flusher writes them; beyond it spans are
 *     dropped (and counted) so that recording never blocks repair
 * @param flushInterval how long a recorded span may wait before it is written and committed
 * @param batchSize buffered spans that trigger a flush before the interval is up
 * @param purgeInterval how often expired spans are deleted (also once at open)
 */
public record SpanStoreSettings(
    Duration retention, int bufferCapacity, Duration flushInterval, int batchSize, Duration purgeInterval) {
  public static final Duration DEFAULT_RETENTION = Duration.ofDays(3);

  public SpanStoreSettings {
    requirePositive(retention, "retention");
    requirePositive(flushInterval, "flushInterval");
    requirePositive(purgeInterval, "purgeInterval");
    if (bufferCapacity < 1 || batchSize < 1) {
      throw new IllegalArgumentException("bufferCapacity and batchSize must be >= 1");
    }
  }

  /** Production settings: 10 000 buffered spans, flush every second or at 512, purge hourly. */
  public static SpanStoreSettings withRetention(Duration retention) {
    return new SpanStoreSettings(retention, 10_000, Duration.ofSeconds(1), 512, Duration.ofHours(1));
  }

  private static void requirePositive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(name + " must be positive: " + d);
    }
  }
}
