package dev.arbor.runtime;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's time and threads, built once in a composition root and passed by constructor to
 * everything that reads the clock or starts threads: the monotonic {@link #ticker()}, the
 * {@link #wallClock()}, and named schedulers, executors and threads from its {@link ThreadSource}.
 *
 * <p>{@link #close()} shuts down whatever it created and is still running, newest first (what was
 * built on top of something is stopped before it), within {@link #closeBound()} in all. Owners
 * still stop their own work first, in the order their state needs; this is the backstop that
 * leaves no thread of a closed node behind. Nothing is interrupted: a task inside storage I/O
 * would close its file channel.
 */
public final class NodeRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(NodeRuntime.class);
  private static final Duration DEFAULT_CLOSE_BOUND = Duration.ofSeconds(30);

  private final Ticker ticker;
  private final WallClock wallClock;
  private final ThreadSource threads;
  private final Duration closeBound;
  /** What was created and may still run, oldest first. */
  private final List<Owned> owned = new ArrayList<>();
  private boolean closed;

  /**
   * @param closeBound how long {@link #close()} waits, in all, for what it created to stop
   */
  public NodeRuntime(Ticker ticker, WallClock wallClock, ThreadSource threads, Duration closeBound) {
    this.ticker = ticker;
    this.wallClock = wallClock;
    this.threads = threads;
    this.closeBound = closeBound;
  }

  /** The production runtime: system clocks and named daemon threads. */
  public static NodeRuntime system() {
    return new NodeRuntime(Ticker.system(), WallClock.system(), ThreadSource.system(), DEFAULT_CLOSE_BOUND);
  }

  public Ticker ticker() {
    return ticker;
  }

  public WallClock wallClock() {
    return wallClock;
  }

  public Duration closeBound() {
    return closeBound;
  }

  /** A scheduler running its tasks one at a time (a thread named {@code name} in production). */
  public Scheduler newScheduler(String name) {
    Scheduler s = threads.newScheduler(name);
    own(new Owned(name) {
      @Override
      void stop() {
        s.close();
      }

      @Override
      boolean await(long nanos) throws InterruptedException {
        return s.awaitTermination(Duration.ofNanos(nanos));
      }

      @Override
      boolean done() {
        try {
          return s.isClosed() && s.awaitTermination(Duration.ZERO);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
    });
    return s;
  }

  /**
   * An executor of {@code threads} workers and at most {@code queueBound} waiting tasks
   * ({@code Integer.MAX_VALUE}: unbounded; 0: a task is taken only by an idle worker).
   */
  public ExecutorService newExecutor(String name, int threads, int queueBound) {
    ExecutorService e = this.threads.newExecutor(name, threads, queueBound);
    own(new Owned(name) {
      @Override
      void stop() {
        e.shutdown();
      }

      @Override
      boolean await(long nanos) throws InterruptedException {
        return e.awaitTermination(nanos, TimeUnit.NANOSECONDS);
      }

      @Override
      boolean done() {
        return e.isTerminated();
      }
    });
    return e;
  }

  /**
   * An unstarted daemon thread. Its owner must end its loop; at {@link #close()} the runtime only
   * waits for it (a thread cannot be stopped from outside without interrupting its I/O).
   */
  public Thread newThread(String name, Runnable body) {
    Thread t = threads.newThread(name, body);
    own(new Owned(name) {
      @Override
      void stop() {
        // its owner ends it
      }

      @Override
      boolean await(long nanos) throws InterruptedException {
        if (t.getState() == Thread.State.NEW) {
          return true;
        }
        TimeUnit.NANOSECONDS.timedJoin(t, Math.max(1, nanos));
        return !t.isAlive();
      }

      @Override
      boolean done() {
        return t.getState() == Thread.State.TERMINATED;
      }
    });
    return t;
  }

  private synchronized void own(Owned o) {
    if (closed) {
      o.stop();
      throw new IllegalStateException("the node runtime is closed; " + o.name + " would never be stopped");
    }
    // Components come and go (a WAL per generation); forget what already ended.
    owned.removeIf(Owned::done);
    owned.add(o);
  }

  /** The names of what this runtime created and has not ended yet, oldest first. */
  public synchronized List<String> running() {
    return owned.stream().filter(o -> !o.done()).map(o -> o.name).toList();
  }

  /**
   * Shuts down what this runtime created, newest first, waiting for each within what is left of
   * {@link #closeBound()}.
   *
   * @return the names of what had not stopped when the bound ran out (empty normally)
   */
  public List<String> shutdown() {
    List<Owned> todo;
    synchronized (this) {
      closed = true;
      todo = new ArrayList<>(owned);
      owned.clear();
    }
    List<String> left = new ArrayList<>();
    long deadline = System.nanoTime() + closeBound.toNanos();
    for (int i = todo.size() - 1; i >= 0; i--) {
      Owned o = todo.get(i);
      o.stop();
      try {
        if (!o.await(Math.max(0, deadline - System.nanoTime()))) {
          left.add(o.name);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        left.add(o.name);
      }
    }
    if (!left.isEmpty()) {
      LOG.warn("still running {} after closing the node's runtime (bound {}); they are daemon threads and end with "
          + "the process", left, closeBound);
    }
    return left;
  }

  /** {@link #shutdown()}. */
  @Override
  public void close() {
    shutdown();
  }

  /** Something this runtime created. */
  private abstract static class Owned {
    final String name;

    Owned(String name) {
      this.name = name;
    }

    /** Starts stopping it: no new work, queued work dropped or finished by its kind. */
    abstract void stop();

    /** Waits up to {@code nanos} for it to end. */
    abstract boolean await(long nanos) throws InterruptedException;

    abstract boolean done();
  }
}
