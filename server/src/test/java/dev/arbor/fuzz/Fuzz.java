package dev.arbor.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;

/**
 * The shared campaign settings: iterations per target ({@code -Darbor.fuzz.iterations=N}, default
 * sized so the whole campaign stays within CI's budget), the seed ({@code -Darbor.fuzz.seed=S},
 * default fixed so a CI failure replays exactly), and the per-target report line.
 */
final class Fuzz {
  /** Inputs every target must try in a default run. */
  static final int MIN_CI_INPUTS = 10_000;

  private Fuzz() {}

  static int iterations(int ciDefault) {
    return Integer.getInteger("arbor.fuzz.iterations", ciDefault);
  }

  static long seed(String target) {
    Long given = Long.getLong("arbor.fuzz.seed");
    long seed = given != null ? given : target.hashCode() * 0x9E3779B97F4A7C15L;
    System.out.printf("[fuzz] %s seed=%d (replay with -Darbor.fuzz.seed=%d)%n", target, seed, seed);
    return seed;
  }

  static Random random(String target) {
    return new Random(seed(target));
  }

  /** A failing input as one short line (inputs may hold 70,000-character strings). */
  static String abbreviate(Object o) {
    String s = String.valueOf(o).replace('\n', ' ');
    return s.length() <= 400 ? s : s.substring(0, 400) + "...(" + s.length() + " chars)";
  }

  /** Counts inputs and prints what one target did; asserts the minimum in a default run. */
  static final class Run {
    private final String target;
    private final long start = System.nanoTime();
    private long inputs;

    Run(String target) {
      this.target = target;
    }

    void tried() {
      inputs++;
    }

    long inputs() {
      return inputs;
    }

    void finish(int planned) {
      finish(planned, MIN_CI_INPUTS);
    }

    /** As {@link #finish(int)} with another CI minimum (the real-etcd smoke run is smaller by design). */
    void finish(int planned, int minCiInputs) {
      long ms = (System.nanoTime() - start) / 1_000_000;
      System.out.printf("[fuzz] %s inputs=%d elapsed=%dms%n", target, inputs, ms);
      assertThat(inputs).as("%s inputs tried", target).isGreaterThanOrEqualTo(planned);
      if (System.getProperty("arbor.fuzz.iterations") == null) {
        assertThat(inputs).as("%s inputs tried in a CI run", target).isGreaterThanOrEqualTo(minCiInputs);
      }
    }
  }
}
