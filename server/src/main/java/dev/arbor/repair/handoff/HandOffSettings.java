package dev.arbor.repair.handoff;

import java.time.Duration;

/**
 * @param debounce how long this node must stay out of a shard's placement before its copy is an
 *     orphan, so a registration that flaps does not throw data away
 * @param checkInterval how often placement is compared with the copies held
 * @param aliveInterval how often the last-alive time is persisted
 * @param batchSize records per internal write of a hand-off
 * @param retryBackoff first wait after a failed push (doubles, at most 30 s)
 */
public record HandOffSettings(Duration debounce, Duration checkInterval, Duration aliveInterval, int batchSize,
    Duration retryBackoff) {
  public static final HandOffSettings DEFAULTS = new HandOffSettings(Duration.ofSeconds(10), Duration.ofSeconds(1),
      Duration.ofSeconds(5), 500, Duration.ofMillis(200));

  public HandOffSettings {
    if (debounce.isNegative() || checkInterval.isNegative() || checkInterval.isZero() || aliveInterval.isNegative()
        || aliveInterval.isZero() || batchSize < 1 || retryBackoff.isNegative()) {
      throw new IllegalArgumentException("invalid hand-off settings: " + debounce + ", " + checkInterval + ", "
          + aliveInterval + ", " + batchSize + ", " + retryBackoff);
    }
  }

  public HandOffSettings withDebounce(Duration d) {
    return new HandOffSettings(d, checkInterval, aliveInterval, batchSize, retryBackoff);
  }
}
