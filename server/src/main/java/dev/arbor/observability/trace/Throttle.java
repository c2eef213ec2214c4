package dev.arbor.observability.trace;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Lets one caller through per interval: keeps a warning that can fire on every span (a full
 * buffer, a failing disk) from flooding the log.
 */
final class Throttle {
  private final long intervalNanos;
  private final AtomicLong last;

  Throttle(Duration interval) {
    this.intervalNanos = interval.toNanos();
    // The first call passes.
    this.last = new AtomicLong(System.nanoTime() - intervalNanos);
  }

  /** True for at most one caller per interval. */
  boolean tryAcquire() {
    long now = System.nanoTime();
    long prev = last.get();
    return now - prev >= intervalNanos && last.compareAndSet(prev, now);
  }
}
