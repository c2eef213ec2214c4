package dev.arbor.property;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Issues versions in nanoseconds that never go backwards: {@code max(wall clock, last issued + 1)},
 * and for a key, also above the key's previous revision. Wall-clock steps backwards therefore never
 * produce a version lower than one already written.
 */
public final class HybridClock {
  private final LongSupplier wallNanos;
  private final AtomicLong last = new AtomicLong();

  public HybridClock(LongSupplier wallNanos) {
    this.wallNanos = wallNanos;
  }

  /** A clock on the system wall clock (ns since the Unix epoch). */
  public static HybridClock system() {
    return new HybridClock(HybridClock::systemNanos);
  }

  /**
   * The next version, strictly above every version issued so far and above {@code floor}.
   *
   * @throws IllegalArgumentException when nothing above {@code floor} is left (a stored revision
   *     at {@code Long.MAX_VALUE}); versions never wrap around to negative numbers
   */
  public long next(long floor) {
    if (floor == Long.MAX_VALUE) {
      throw new IllegalArgumentException("no revision above " + floor + " exists");
    }
    long wall = wallNanos.getAsLong();
    return last.updateAndGet(prev -> {
      if (prev == Long.MAX_VALUE) {
        throw new IllegalStateException("the version clock is exhausted at " + prev);
      }
      return Math.max(Math.max(wall, prev + 1), floor + 1);
    });
  }

  public long next() {
    return next(Long.MIN_VALUE + 1);
  }

  private static long systemNanos() {
    java.time.Instant now = java.time.Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }
}
