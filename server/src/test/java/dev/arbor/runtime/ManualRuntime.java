package dev.arbor.runtime;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Virtual time for one or more nodes, in one thread: a monotonic ticker and a wall clock that move
 * only when the test calls {@link #advance}, and schedulers and executors whose tasks run then, in
 * the order (due time, insertion). Nothing runs on another thread: threads made through it are
 * never started (their owners are driven step by step by the test), executors run their tasks as
 * events due at once. Tasks that throw are kept in {@link #failures()} and the run goes on, as
 * production schedulers log and go on.
 */
public final class ManualRuntime implements ThreadSource {
  private final PriorityQueue<Event> events = new PriorityQueue<>();
  private final List<String> stopped = new ArrayList<>();
  private final List<Throwable> failures = new ArrayList<>();
  private long now;
  private long seq;
  private final long wallStartNanos;
  private long wallSkewNanos;

  /** @param wallStartNanos the wall clock at virtual time zero, ns since the Unix epoch */
  public ManualRuntime(long wallStartNanos) {
    this.wallStartNanos = wallStartNanos;
  }

  /** A node runtime on this virtual time (its close waits for nothing: nothing runs elsewhere). */
  public NodeRuntime nodeRuntime() {
    return new NodeRuntime(ticker(), wallClock(), this, Duration.ZERO);
  }

  public Ticker ticker() {
    return () -> now;
  }

  public WallClock wallClock() {
    return () -> wallStartNanos + now + wallSkewNanos;
  }

  /** Steps the wall clock (not the ticker) by {@code by}, as NTP or an operator would. */
  public void skewWall(Duration by) {
    wallSkewNanos += by.toNanos();
  }

  /** Virtual nanoseconds since the start. */
  public long nanos() {
    return now;
  }

  /** Runs what is due now (executor tasks, zero delays). */
  public int runDue() {
    return advance(Duration.ZERO);
  }

  /**
   * Moves time forward by {@code by}, running every task due until then at its due time.
   *
   * @return how many tasks ran
   */
  public int advance(Duration by) {
    long target = now + by.toNanos();
    int ran = 0;
    Event e;
    while ((e = events.peek()) != null && e.at <= target) {
      events.poll();
      if (e.cancelled) {
        continue;
      }
      now = Math.max(now, e.at);
      ran++;
      try {
        e.task.run();
      } catch (RuntimeException | AssertionError t) {
        failures.add(t);
      }
      if (e.repeatNanos > 0 && !e.cancelled && !e.owner.isClosed()) {
        e.at = now + e.repeatNanos;
        e.seq = seq++;
        events.add(e);
      }
    }
    now = Math.max(now, target);
    return ran;
  }

  /** Tasks waiting (not cancelled). */
  public int pending() {
    return (int) events.stream().filter(x -> !x.cancelled).count();
  }

  /** Names of the schedulers and executors closed, in the order they were closed. */
  public List<String> stopped() {
    return Collections.unmodifiableList(stopped);
  }

  /** What tasks threw. */
  public List<Throwable> failures() {
    return Collections.unmodifiableList(failures);
  }

  @Override
  public Scheduler newScheduler(String name) {
    return new ManualScheduler(name);
  }

  @Override
  public ExecutorService newExecutor(String name, int threads, int queueBound) {
    return new ManualExecutor(name);
  }

  /** A thread that is never started: the test drives its owner's steps itself. */
  @Override
  public Thread newThread(String name, Runnable body) {
    return new Thread(body, name) {
      @Override
      public synchronized void start() {
        // virtual time: nothing runs on its own
      }
    };
  }

  private interface Owner {
    boolean isClosed();
  }

  private Event add(Owner owner, Runnable task, long delayNanos, long repeatNanos) {
    if (owner.isClosed()) {
      throw new RejectedExecutionException("closed");
    }
    Event e = new Event(owner, task, now + Math.max(0, delayNanos), repeatNanos, seq++);
    events.add(e);
    return e;
  }

  private static final class Event implements Comparable<Event> {
    final Owner owner;
    final Runnable task;
    final long repeatNanos;
    long at;
    long seq;
    boolean cancelled;

    Event(Owner owner, Runnable task, long at, long repeatNanos, long seq) {
      this.owner = owner;
      this.task = task;
      this.at = at;
      this.repeatNanos = repeatNanos;
      this.seq = seq;
    }

    @Override
    public int compareTo(Event o) {
      return at != o.at ? Long.compare(at, o.at) : Long.compare(seq, o.seq);
    }
  }

  private final class ManualScheduler implements Scheduler, Owner {
    private final String name;
    private final List<Event> mine = new ArrayList<>();
    private boolean closed;

    ManualScheduler(String name) {
      this.name = name;
    }

    @Override
    public Cancellable schedule(Runnable task, Duration delay) {
      Event e = add(this, task, delay.toNanos(), 0);
      mine.add(e);
      return () -> e.cancelled = true;
    }

    @Override
    public Cancellable scheduleWithFixedDelay(Runnable task, Duration initialDelay, Duration delay) {
      Event e = add(this, task, initialDelay.toNanos(), Math.max(1, delay.toNanos()));
      mine.add(e);
      return () -> e.cancelled = true;
    }

    @Override
    public boolean isClosed() {
      return closed;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        stopped.add(name);
        mine.forEach(e -> e.cancelled = true);
      }
    }

    @Override
    public boolean awaitTermination(Duration wait) {
      return closed;
    }
  }

  /** Runs each task as an event due now; shutdown lets queued tasks run, shutdownNow drops them. */
  private final class ManualExecutor extends AbstractExecutorService implements Owner {
    private final String name;
    private final List<Event> mine = new ArrayList<>();
    private boolean closed;

    ManualExecutor(String name) {
      this.name = name;
    }

    @Override
    public void execute(Runnable command) {
      mine.removeIf(e -> e.cancelled || e.at < now);
      mine.add(add(this, command, 0, 0));
    }

    @Override
    public boolean isClosed() {
      return closed;
    }

    @Override
    public void shutdown() {
      if (!closed) {
        closed = true;
        stopped.add(name);
      }
    }

    @Override
    public List<Runnable> shutdownNow() {
      shutdown();
      List<Runnable> dropped = new ArrayList<>();
      for (Event e : mine) {
        if (!e.cancelled && events.contains(e)) {
          e.cancelled = true;
          dropped.add(e.task);
        }
      }
      return dropped;
    }

    @Override
    public boolean isShutdown() {
      return closed;
    }

    @Override
    public boolean isTerminated() {
      return closed && mine.stream().noneMatch(e -> !e.cancelled && events.contains(e));
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
      return isTerminated();
    }
  }
}
