package dev.arbor.runtime;

import java.util.concurrent.ExecutorService;

/**
 * Where a {@link NodeRuntime} gets its schedulers, executors and threads: {@link #system()} in
 * production (named daemon threads), an event queue on virtual time in a simulator.
 */
public interface ThreadSource {
  /** A scheduler running its tasks one at a time, named {@code name}. */
  Scheduler newScheduler(String name);

  /**
   * An executor of {@code threads} workers named {@code name-N} and a queue of at most
   * {@code queueBound} waiting tasks; beyond it {@code execute} throws
   * {@link java.util.concurrent.RejectedExecutionException}. {@code shutdown} lets queued and
   * running tasks finish; nothing is interrupted unless the owner calls {@code shutdownNow}. In
   * production a worker idle for a minute ends (a pool sized for bursts holds no threads between them).
   */
  ExecutorService newExecutor(String name, int threads, int queueBound);

  /** An unstarted daemon thread named {@code name} running {@code body}. */
  Thread newThread(String name, Runnable body);

  static ThreadSource system() {
    return new SystemThreads();
  }
}
