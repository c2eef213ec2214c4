package dev.arbor.runtime;

import java.time.Instant;

/**
 * The wall clock: time since the Unix epoch, as stamped on data (revisions, tombstones, coverage
 * watermarks) and on round deadlines that cross nodes. It may jump (NTP, an operator); anything
 * that measures a duration within one process uses a {@link Ticker}.
 */
@FunctionalInterface
public interface WallClock {
  /** {@link Instant#now()}: microsecond resolution on Linux. */
  WallClock SYSTEM = () -> {
    Instant i = Instant.now();
    return i.getEpochSecond() * 1_000_000_000L + i.getNano();
  };

  /** Nanoseconds since the Unix epoch. */
  long nanos();

  /** Milliseconds since the Unix epoch. */
  default long millis() {
    return Math.floorDiv(nanos(), 1_000_000L);
  }

  default Instant instant() {
    long n = nanos();
    return Instant.ofEpochSecond(Math.floorDiv(n, 1_000_000_000L), Math.floorMod(n, 1_000_000_000L));
  }

  static WallClock system() {
    return SYSTEM;
  }
}
