package dev.arbor.simulation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The simulation's executors keep the production pool's bounds while borrowing shared threads. */
class BorrowedExecutorTest {
  private final ExecutorService workers = Executors.newCachedThreadPool();

  @AfterEach
  void stopWorkers() {
    workers.shutdownNow();
  }

  @Test
  void runsAtMostItsThreadsAtOnceQueuesUpToItsBoundAndRefusesBeyond() throws Exception {
    BorrowedExecutor e = new BorrowedExecutor("test", workers, 2, 1);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(2);
    AtomicInteger running = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    Runnable task = () -> {
      most.accumulateAndGet(running.incrementAndGet(), Math::max);
      started.countDown();
      try {
        release.await();
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
      }
      running.decrementAndGet();
    };
    e.execute(task);
    e.execute(task);
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
    e.execute(task); // waits: both slots busy
    assertThatThrownBy(() -> e.execute(task)).isInstanceOf(RejectedExecutionException.class)
        .hasMessageContaining("test is full");
    release.countDown();
    e.shutdown();
    assertThat(e.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    assertThat(most.get()).isEqualTo(2);
    assertThat(running.get()).isZero();
    assertThatThrownBy(() -> e.execute(task)).isInstanceOf(RejectedExecutionException.class)
        .hasMessageContaining("shut down");
  }

  @Test
  void aFailingTaskDoesNotStopTheTasksQueuedBehindIt() throws Exception {
    BorrowedExecutor e = new BorrowedExecutor("test", workers, 1, Integer.MAX_VALUE);
    AtomicInteger ran = new AtomicInteger();
    e.execute(() -> {
      throw new IllegalStateException("expected by the test");
    });
    for (int i = 0; i < 5; i++) {
      e.execute(ran::incrementAndGet);
    }
    e.shutdown();
    assertThat(e.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    assertThat(ran.get()).isEqualTo(5);
  }
}
