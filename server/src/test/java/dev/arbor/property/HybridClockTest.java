package dev.arbor.property;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.Test;

class HybridClockTest {

  /** A wall clock replaying the given readings, then repeating the last one. */
  private static LongSupplier readings(long... values) {
    AtomicInteger i = new AtomicInteger();
    return () -> values[Math.min(i.getAndIncrement(), values.length - 1)];
  }

  @Test
  void strictlyIncreasingWhenTheWallClockGoesBackwards() {
    long[] wall = {1_000, 2_000, 1_500, 10, 2_000, 2_000, 2_000, 5_000, -7, 4_999};
    HybridClock clock = new HybridClock(readings(wall));

    long prev = Long.MIN_VALUE;
    for (int i = 0; i < wall.length; i++) {
      long v = clock.next();
      assertThat(v).as("reading %d (wall %d)", i, wall[i]).isGreaterThan(prev).isGreaterThanOrEqualTo(wall[i]);
      prev = v;
    }
  }

  @Test
  void followsTheWallClockWhenItIsAhead() {
    HybridClock clock = new HybridClock(readings(100, 200, 300));
    assertThat(clock.next()).isEqualTo(100);
    assertThat(clock.next()).isEqualTo(200);
    assertThat(clock.next()).isEqualTo(300);
    assertThat(clock.next()).isEqualTo(301); // wall stuck at 300
  }

  @Test
  void nextIsAboveTheFloor() {
    HybridClock clock = new HybridClock(() -> 100);

    long a = clock.next(5_000);
    assertThat(a).isGreaterThan(5_000);
    long b = clock.next(10); // floor below what was issued: still above everything issued
    assertThat(b).isGreaterThan(a);
    long c = clock.next(b + 1_000_000);
    assertThat(c).isGreaterThan(b + 1_000_000);
    assertThat(clock.next()).isGreaterThan(c);
  }

  @Test
  void floorAboveAFarAheadWallClock() {
    HybridClock clock = new HybridClock(() -> 1_000_000);
    assertThat(clock.next(999_999)).isEqualTo(1_000_000);
    assertThat(clock.next(1_000_000)).isEqualTo(1_000_001);
  }

  @Test
  void systemClockIsNearTheCurrentTimeInNanos() {
    long nowNanos = System.currentTimeMillis() * 1_000_000L;
    long v = HybridClock.system().next();
    assertThat(v).isBetween(nowNanos - 60_000_000_000L, nowNanos + 60_000_000_000L);
  }

  @Test
  void concurrentCallersGetUniqueIncreasingValues() throws Exception {
    int threads = 8;
    int perThread = 20_000;
    // A wall clock that mostly stalls and sometimes jumps back: the hardest case for uniqueness.
    AtomicLong ticks = new AtomicLong();
    HybridClock clock = new HybridClock(() -> {
      long t = ticks.incrementAndGet();
      return t % 97 == 0 ? 0 : t / 10;
    });
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<long[]>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Callable<long[]> task = () -> {
          start.await();
          long[] out = new long[perThread];
          for (int i = 0; i < perThread; i++) {
            out[i] = (i % 3 == 0) ? clock.next(i) : clock.next();
          }
          return out;
        };
        futures.add(pool.submit(task));
      }
      start.countDown();
      Set<Long> all = new HashSet<>();
      for (Future<long[]> f : futures) {
        long[] vs = f.get(60, TimeUnit.SECONDS);
        for (int i = 0; i < vs.length; i++) {
          if (i > 0) {
            assertThat(vs[i]).as("per-thread order at %d", i).isGreaterThan(vs[i - 1]);
          }
          all.add(vs[i]);
        }
      }
      assertThat(all).hasSize(threads * perThread);
    } finally {
      pool.shutdownNow();
    }
  }
}
