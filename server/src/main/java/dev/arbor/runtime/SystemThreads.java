package dev.arbor.runtime;

import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Production threads: named daemon threads of the JVM on the system clock. */
final class SystemThreads implements ThreadSource {
  private static final Logger LOG = LoggerFactory.getLogger(SystemThreads.class);

  @Override
  public Scheduler newScheduler(String name) {
    return new SystemScheduler(name);
  }

  @Override
  public ExecutorService newExecutor(String name, int threads, int queueBound) {
    if (threads < 1 || queueBound < 0) {
      throw new IllegalArgumentException("an executor needs threads >= 1 and queueBound >= 0, got " + threads
          + " and " + queueBound);
    }
    BlockingQueue<Runnable> queue = queueBound == 0 ? new SynchronousQueue<>()
        : queueBound == Integer.MAX_VALUE ? new LinkedBlockingQueue<>() : new ArrayBlockingQueue<>(queueBound);
    ThreadPoolExecutor pool = new ThreadPoolExecutor(threads, threads, 1, TimeUnit.MINUTES, queue, numbered(name));
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  @Override
  public Thread newThread(String name, Runnable body) {
    Thread t = new Thread(body, name);
    t.setDaemon(true);
    return t;
  }

  private ThreadFactory numbered(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> newThread(name + "-" + n.getAndIncrement(), r);
  }

  /** One daemon thread; tasks not yet started are dropped at close, a running one finishes. */
  private final class SystemScheduler implements Scheduler {
    private final ScheduledThreadPoolExecutor executor;

    SystemScheduler(String name) {
      executor = new ScheduledThreadPoolExecutor(1, r -> newThread(name, r));
      executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
      executor.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
      executor.setRemoveOnCancelPolicy(true);
    }

    @Override
    public Cancellable schedule(Runnable task, Duration delay) {
      ScheduledFuture<?> f = executor.schedule(guarded(task), Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
      return () -> f.cancel(false);
    }

    @Override
    public Cancellable scheduleWithFixedDelay(Runnable task, Duration initialDelay, Duration delay) {
      ScheduledFuture<?> f = executor.scheduleWithFixedDelay(guarded(task), Math.max(0, initialDelay.toNanos()),
          Math.max(1, delay.toNanos()), TimeUnit.NANOSECONDS);
      return () -> f.cancel(false);
    }

    /** A throwing task would silently lose its repeats in a plain ScheduledExecutorService. */
    private Runnable guarded(Runnable task) {
      return () -> {
        try {
          task.run();
        } catch (RuntimeException e) {
          LOG.error("scheduled task on {} failed", Thread.currentThread().getName(), e);
        }
      };
    }

    @Override
    public boolean isClosed() {
      return executor.isShutdown();
    }

    @Override
    public void close() {
      executor.shutdown();
    }

    @Override
    public boolean awaitTermination(Duration wait) throws InterruptedException {
      return executor.awaitTermination(Math.max(0, wait.toNanos()), TimeUnit.NANOSECONDS);
    }
  }
}
