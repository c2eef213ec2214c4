package dev.arbor.simulation;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * A node's executor in the simulation: the same bounds as the production pool it stands for (at
 * most {@code threads} tasks at once, at most {@code queueBound} waiting, refused after shutdown),
 * but run on threads borrowed from the run's shared workers. A production pool starts a thread
 * for each of its first tasks up to its size (the liaison's: one per replica call, hundreds a
 * seed) and stops them all at close; a seed needs only as many threads as calls in flight.
 */
final class BorrowedExecutor extends AbstractExecutorService {
  private final String name;
  private final Executor workers;
  private final int threads;
  private final int queueBound;
  private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
  private int running;
  private boolean shutdown;

  BorrowedExecutor(String name, Executor workers, int threads, int queueBound) {
    if (threads < 1 || queueBound < 0) {
      throw new IllegalArgumentException("an executor needs threads >= 1 and queueBound >= 0, got " + threads
          + " and " + queueBound);
    }
    this.name = name;
    this.workers = workers;
    this.threads = threads;
    this.queueBound = queueBound;
  }

  @Override
  public synchronized void execute(Runnable task) {
    if (shutdown) {
      throw new RejectedExecutionException(name + " is shut down");
    }
    if (running < threads) {
      running++;
      workers.execute(() -> drain(task));
    } else if (waiting.size() < queueBound) {
      waiting.add(task);
    } else {
      throw new RejectedExecutionException(name + " is full: " + threads + " running, " + waiting.size()
          + " waiting");
    }
  }

  /** Runs the task, then whatever waits, until nothing does: one of this executor's slots. */
  private void drain(Runnable first) {
    Runnable task = first;
    while (task != null) {
      try {
        task.run();
      } catch (RuntimeException | Error e) {
        // As a pool thread would: the failure is reported, the slot goes on.
        Thread t = Thread.currentThread();
        t.getUncaughtExceptionHandler().uncaughtException(t, e);
      }
      synchronized (this) {
        task = waiting.poll();
        if (task == null) {
          running--;
          notifyAll();
        }
      }
    }
  }

  @Override
  public synchronized void shutdown() {
    shutdown = true;
    notifyAll();
  }

  @Override
  public synchronized List<Runnable> shutdownNow() {
    shutdown = true;
    List<Runnable> dropped = List.copyOf(waiting);
    waiting.clear();
    notifyAll();
    return dropped;
  }

  @Override
  public synchronized boolean isShutdown() {
    return shutdown;
  }

  @Override
  public synchronized boolean isTerminated() {
    return shutdown && running == 0;
  }

  @Override
  public synchronized boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    while (!isTerminated()) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
    return true;
  }
}
