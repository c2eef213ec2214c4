package dev.arbor.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The simulation would have found the fixed defects: each, switched back on alone, fails a seed
 * of the CI campaign's range (seeds from 1, the same workload and fault schedules), and the test
 * prints which seed and how many seeds it took. Defects the simulation cannot catch yet are
 * listed in docs/testing.md with what it lacks.
 */
class SimulationDefectsTest {
  /** At most this many seeds per defect ({@code -Darbor.sim.defectSeeds}). */
  private static final int MAX_SEEDS = Integer.getInteger("arbor.sim.defectSeeds", 48);
  private static final int THREADS = Integer.getInteger("arbor.sim.threads",
      Math.max(2, 2 * Runtime.getRuntime().availableProcessors()));
  private static ExecutorService pool;

  @TempDir
  Path dir;

  @BeforeAll
  static void startPool() {
    pool = Executors.newFixedThreadPool(THREADS);
  }

  @AfterAll
  static void stopPool() {
    pool.shutdownNow();
  }

  @ParameterizedTest
  @EnumSource(value = Defect.class, names = {"PURGE_WITHOUT_COVERAGE", "INCARNATION_IGNORED", "WAL_ROLL_DOES_NOT_LATCH",
      "ACK_IGNORES_STORED", "NO_CONTENT_TIE_BREAK", "FRESH_DELETE_CLOCK_UNCHECKED"})
  void aSeedOfTheCampaignCatchesTheDefect(Defect defect) throws Exception {
    Path work = SimulationCampaign.workDir(dir);
    DefectSwitches on = DefectSwitches.of(defect);
    // Seeds run THREADS at a time, in order; the lowest failing seed of the first batch with one is the catch.
    for (long first = 1; first <= MAX_SEEDS; first += THREADS) {
      List<Future<Simulation.Outcome>> batch = new ArrayList<>();
      for (long s = first; s < first + THREADS && s <= MAX_SEEDS; s++) {
        long seed = s;
        batch.add(pool.submit(() -> Simulation.run(seed, work.resolve(defect + "-" + seed), null, false, on)));
      }
      for (Future<Simulation.Outcome> f : batch) {
        Simulation.Outcome o = f.get();
        if (o.failed()) {
          System.out.println("simulation defect " + defect + ": caught by seed " + o.seed() + " (seeds 1.." + o.seed()
              + " run): " + o.problems().get(0).lines().findFirst().orElse(""));
          return;
        }
      }
    }
    assertThat(false).as("%s switched on was not caught by seeds 1..%d", defect, MAX_SEEDS).isTrue();
  }
}
