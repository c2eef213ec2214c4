package dev.arbor.simulation;

import dev.arbor.runtime.Cancellable;
import dev.arbor.runtime.Scheduler;
import dev.arbor.runtime.ThreadSource;
import java.time.Duration;
import java.util.concurrent.ExecutorService;

/**
 * A node's threads in the simulation: its schedulers are steps on virtual time (a round's
 * deadline, a timer, a periodic check fire when the simulation's clock reaches them, on the
 * simulation's thread); executors and threads are real, for the work that runs inside a step and
 * is waited for there (the WAL's sync thread, a liaison's fan-out). Executors keep their
 * production bounds but borrow the run's few worker threads ({@link BorrowedExecutor}).
 */
final class SimThreads implements ThreadSource {
  private final SimScheduler clock;
  private final ThreadSource real = ThreadSource.system();
  /**
   * The threads every executor of the run borrows (see {@link BorrowedExecutor}): as many as
   * tasks run at once, each ending after a second idle, so a finished run leaves none behind.
   */
  private final java.util.concurrent.ThreadPoolExecutor workers = new java.util.concurrent.ThreadPoolExecutor(0,
      Integer.MAX_VALUE, 1, java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.SynchronousQueue<>(),
      r -> real.newThread("sim-worker", r));

  SimThreads(SimScheduler clock) {
    this.clock = clock;
  }

  /** The simulation's monotonic time (no node's skew in it): a node runtime's ticker. */
  long ticker() {
    return clock.now();
  }

  @Override
  public Scheduler newScheduler(String name) {
    return new VirtualScheduler(name);
  }

  @Override
  public ExecutorService newExecutor(String name, int threads, int queueBound) {
    return new BorrowedExecutor(name, workers, threads, queueBound);
  }

  @Override
  public Thread newThread(String name, Runnable body) {
    return real.newThread(name, body);
  }

  private final class VirtualScheduler implements Scheduler {
    private final String name;
    private volatile boolean closed;

    VirtualScheduler(String name) {
      this.name = name;
    }

    @Override
    public Cancellable schedule(Runnable task, Duration delay) {
      boolean[] cancelled = {false};
      clock.at(clock.now() + delay.toNanos(), name, () -> {
        if (!closed && !cancelled[0]) {
          task.run();
        }
      });
      return () -> cancelled[0] = true;
    }

    @Override
    public Cancellable scheduleWithFixedDelay(Runnable task, Duration initialDelay, Duration delay) {
      boolean[] cancelled = {false};
      Runnable[] again = new Runnable[1];
      again[0] = () -> {
        if (closed || cancelled[0]) {
          return;
        }
        task.run();
        clock.at(clock.now() + delay.toNanos(), name, again[0]);
      };
      clock.at(clock.now() + initialDelay.toNanos(), name, again[0]);
      return () -> cancelled[0] = true;
    }

    @Override
    public boolean isClosed() {
      return closed;
    }

    @Override
    public void close() {
      closed = true;
    }

    @Override
    public boolean awaitTermination(Duration wait) {
      return true;
    }
  }
}
