package dev.arbor.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.Test;

/** The virtual-time runtime the simulator reuses: tasks run only when the test moves time, in (time, insertion) order. */
class ManualRuntimeTest {
  private final ManualRuntime time = new ManualRuntime(1_600_000_000_000_000_000L);
  private final NodeRuntime runtime = time.nodeRuntime();
  private final List<String> ran = new ArrayList<>();

  @Test
  void tasksRunWhenTimeReachesThemInTimeThenInsertionOrder() {
    Scheduler s = runtime.newScheduler("s");
    s.schedule(() -> ran.add("b@2s"), Duration.ofSeconds(2));
    s.schedule(() -> ran.add("a@1s"), Duration.ofSeconds(1));
    s.schedule(() -> ran.add("c@2s"), Duration.ofSeconds(2));
    assertThat(ran).isEmpty();
    assertThat(time.advance(Duration.ofMillis(999))).isZero();
    time.advance(Duration.ofMillis(1));
    assertThat(ran).containsExactly("a@1s");
    time.advance(Duration.ofSeconds(5));
    assertThat(ran).containsExactly("a@1s", "b@2s", "c@2s");
    assertThat(time.nanos()).isEqualTo(Duration.ofSeconds(6).toNanos());
  }

  @Test
  void aTaskSeesTheClocksAtItsDueTime() {
    Scheduler s = runtime.newScheduler("s");
    List<Long> seen = new ArrayList<>();
    s.schedule(() -> seen.add(runtime.ticker().read()), Duration.ofSeconds(3));
    s.schedule(() -> seen.add(runtime.wallClock().millis()), Duration.ofSeconds(3));
    time.advance(Duration.ofMinutes(1));
    assertThat(seen).containsExactly(Duration.ofSeconds(3).toNanos(), 1_600_000_000_000L + 3_000);
  }

  @Test
  void fixedDelayRepeatsUntilCancelledAndTasksScheduledByTasksRunInTheSameAdvance() {
    Scheduler s = runtime.newScheduler("s");
    Cancellable tick = s.scheduleWithFixedDelay(() -> ran.add("tick@" + time.nanos() / 1_000_000_000L),
        Duration.ZERO, Duration.ofSeconds(10));
    s.schedule(() -> s.schedule(() -> ran.add("nested@" + time.nanos() / 1_000_000_000L), Duration.ofSeconds(1)),
        Duration.ofSeconds(4));
    time.advance(Duration.ofSeconds(20));
    assertThat(ran).containsExactly("tick@0", "nested@5", "tick@10", "tick@20");
    tick.cancel();
    time.advance(Duration.ofMinutes(1));
    assertThat(ran).hasSize(4);
  }

  @Test
  void executorTasksRunAtTheCurrentTimeAndAClosedSchedulerRejectsAndDropsItsTasks() {
    ExecutorService e = runtime.newExecutor("e", 2, 10);
    e.execute(() -> ran.add("first"));
    e.execute(() -> ran.add("second"));
    assertThat(ran).isEmpty();
    assertThat(time.runDue()).isEqualTo(2);
    assertThat(ran).containsExactly("first", "second");

    Scheduler s = runtime.newScheduler("s");
    s.schedule(() -> ran.add("never"), Duration.ofSeconds(1));
    s.close();
    assertThatThrownBy(() -> s.schedule(() -> { }, Duration.ZERO)).isInstanceOf(RejectedExecutionException.class);
    time.advance(Duration.ofSeconds(2));
    assertThat(ran).containsExactly("first", "second");
  }

  @Test
  void wallClockSkewMovesTheWallClockNotTheTicker() {
    long wall = runtime.wallClock().nanos();
    long tick = runtime.ticker().read();
    time.skewWall(Duration.ofSeconds(-30));
    assertThat(runtime.wallClock().nanos()).isEqualTo(wall - Duration.ofSeconds(30).toNanos());
    assertThat(runtime.ticker().read()).isEqualTo(tick);
  }

  @Test
  void threadsMadeOnVirtualTimeNeverRunOnTheirOwn() throws Exception {
    Thread t = runtime.newThread("loop", () -> ran.add("ran"));
    t.start();
    t.join();
    assertThat(ran).isEmpty();
  }
}
