package dev.arbor.runtime;

import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;

/**
 * Runs tasks after a delay, one at a time (in production one named daemon thread; in a simulator
 * an event queue ordered by virtual time). A task that throws is logged and, if repeating, keeps
 * its schedule.
 */
public interface Scheduler extends AutoCloseable {
  /**
   * Runs {@code task} once after {@code delay}.
   *
   * @throws RejectedExecutionException once closed
   */
  Cancellable schedule(Runnable task, Duration delay);

  /**
   * Runs {@code task} after {@code initialDelay}, then again {@code delay} after each run ends.
   *
   * @throws RejectedExecutionException once closed
   */
  Cancellable scheduleWithFixedDelay(Runnable task, Duration initialDelay, Duration delay);

  /** Whether {@link #close} was called. */
  boolean isClosed();

  /**
   * Drops the tasks not yet started; a running task finishes (it is not interrupted). Returns
   * without waiting for it; see {@link #awaitTermination}.
   */
  @Override
  void close();

  /** Waits up to {@code wait} for a closed scheduler's running task to end; true if it did. */
  boolean awaitTermination(Duration wait) throws InterruptedException;
}
