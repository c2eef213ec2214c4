package dev.arbor.repair.tree;

import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Holds a scrub to a number of leaves per second: after every {@link #STEP} leaves it waits until
 * the time those leaves are allowed to take has passed. A rate of 0 never waits.
 */
final class ScrubPace {
  /** Leaves between checks: small enough to be smooth, large enough to cost nothing per leaf. */
  static final int STEP = 1024;
  private static final long MAX_PARK_NANOS = 100_000_000L;

  private final long leavesPerSecond;
  private final long start = System.nanoTime();

  ScrubPace(long leavesPerSecond) {
    this.leavesPerSecond = leavesPerSecond;
  }

  /** Waits, in short naps so a shutdown is seen, until {@code leaves} are due; stops early when {@code stop}. */
  void after(long leaves, BooleanSupplier stop) {
    if (leavesPerSecond <= 0) {
      return;
    }
    long due = start + (long) (leaves * 1e9 / leavesPerSecond);
    long wait;
    while ((wait = due - System.nanoTime()) > 0 && !stop.getAsBoolean()) {
      LockSupport.parkNanos(Math.min(wait, MAX_PARK_NANOS));
    }
  }
}
