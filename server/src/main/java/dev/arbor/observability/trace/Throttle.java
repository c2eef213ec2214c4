package dev.arbor.observability.trace;

import dev.arbor.runtime.Ticker;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Lets one caller through per interval: keeps a warning that can fire on every span (a full
 * buffer, a failing disk) from flooding the log.
 */
final class Throttle {
  private final long intervalNanos;
  private final AtomicLong last;
  private final Ticker ticker;

  Throttle(Duration interval, Ticker ticker) {
    this.intervalNanos = interval.toNanos();
    this.ticker = ticker;
    // The first call passes.
    this.last = new AtomicLong(ticker.read() - intervalNanos);
  }

  /** True for at most one caller per interval. */
  boolean tryAcquire() {
    long now = ticker.read();
    long prev = last.get();
    return now - prev >= intervalNanos && last.compareAndSet(prev, now);
  }
}
