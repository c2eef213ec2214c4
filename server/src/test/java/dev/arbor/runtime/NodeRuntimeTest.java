package dev.arbor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What a node runtime creates, and how its close stops it: newest first, bounded, nothing interrupted. */
class NodeRuntimeTest {
  @Test
  void closeShutsDownWhatItCreatedInReverseCreationOrder() {
    ManualRuntime time = new ManualRuntime(0);
    NodeRuntime runtime = time.nodeRuntime();
    runtime.newScheduler("first");
    runtime.newExecutor("second", 1, 1);
    runtime.newScheduler("third");
    assertThat(runtime.running()).containsExactly("first", "second", "third");
    assertThat(runtime.shutdown()).isEmpty();
    assertThat(time.stopped()).containsExactly("third", "second", "first");
    assertThat(runtime.running()).isEmpty();
    assertThatThrownBy(() -> runtime.newScheduler("late")).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("late");
  }

  @Test
  void whatEndedBeforeCloseIsForgottenAndNotStoppedAgain() {
    ManualRuntime time = new ManualRuntime(0);
    NodeRuntime runtime = time.nodeRuntime();
    Scheduler gone = runtime.newScheduler("gone");
    gone.close();
    runtime.newScheduler("kept");
    assertThat(runtime.running()).containsExactly("kept");
    runtime.close();
    assertThat(time.stopped()).containsExactly("gone", "kept");
  }

  @Test
  void systemRuntimeStopsItsSchedulersExecutorsAndWaitsForItsThreads() throws Exception {
    NodeRuntime runtime = NodeRuntime.system();
    Scheduler s = runtime.newScheduler("arbor-test-scheduler");
    CountDownLatch ran = new CountDownLatch(1);
    s.schedule(ran::countDown, Duration.ZERO);
    s.schedule(() -> { }, Duration.ofHours(1)); // dropped at close, not waited for
    ExecutorService e = runtime.newExecutor("arbor-test-pool", 2, 4);
    CountDownLatch release = new CountDownLatch(1);
    Thread t = runtime.newThread("arbor-test-thread", () -> {
      try {
        release.await();
      } catch (InterruptedException ignored) {
        Thread.currentThread().interrupt();
      }
    });
    assertThat(t.isDaemon()).isTrue();
    t.start();
    assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
    release.countDown();
    assertThat(runtime.shutdown()).isEmpty();
    assertThat(s.isClosed()).isTrue();
    assertThat(e.isTerminated()).isTrue();
    assertThat(t.isAlive()).isFalse();
    assertThatThrownBy(() -> s.schedule(() -> { }, Duration.ZERO)).isInstanceOf(RejectedExecutionException.class);
  }

  @Test
  void aThreadThatDoesNotEndIsReportedNotInterrupted() throws Exception {
    NodeRuntime runtime = new NodeRuntime(Ticker.system(), WallClock.system(), ThreadSource.system(),
        Duration.ofMillis(100));
    CountDownLatch release = new CountDownLatch(1);
    Thread t = runtime.newThread("arbor-test-stuck", () -> {
      try {
        release.await();
      } catch (InterruptedException e) {
        throw new AssertionError("interrupted by the runtime", e);
      }
    });
    t.start();
    assertThat(runtime.shutdown()).containsExactly("arbor-test-stuck");
    assertThat(t.isInterrupted()).isFalse();
    release.countDown();
    await().atMost(Duration.ofSeconds(10)).until(() -> !t.isAlive());
  }

  @Test
  void aThrowingRepeatedTaskKeepsItsSchedule() {
    NodeRuntime runtime = NodeRuntime.system();
    try {
      Scheduler s = runtime.newScheduler("arbor-test-throwing");
      java.util.concurrent.atomic.AtomicInteger runs = new java.util.concurrent.atomic.AtomicInteger();
      s.scheduleWithFixedDelay(() -> {
        if (runs.incrementAndGet() <= 2) {
          throw new IllegalStateException("expected by the test");
        }
      }, Duration.ZERO, Duration.ofMillis(10));
      await().atMost(Duration.ofSeconds(10)).until(() -> runs.get() >= 3);
    } finally {
      runtime.close();
    }
  }

  @Test
  void wallClockConversionsAgree() {
    WallClock c = () -> 1_234_567_890_123_456_789L;
    assertThat(c.millis()).isEqualTo(1_234_567_890_123L);
    assertThat(c.instant().getEpochSecond()).isEqualTo(1_234_567_890L);
    assertThat(c.instant().getNano()).isEqualTo(123_456_789);
    WallClock before = () -> -1L;
    assertThat(before.millis()).isEqualTo(-1);
    assertThat(before.instant().getEpochSecond()).isEqualTo(-1);
    assertThat(before.instant().getNano()).isEqualTo(999_999_999);
  }
}
