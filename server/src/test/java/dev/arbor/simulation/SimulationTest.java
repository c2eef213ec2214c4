package dev.arbor.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CI simulation campaign: many seeds, each a whole cluster run with its own workload and
 * fault schedule ({@link Simulation}). Flags: {@code -Darbor.sim.seeds=N} (how many),
 * {@code -Darbor.sim.firstSeed=S} (where the range starts), {@code -Darbor.sim.seed=S} (replay one),
 * {@code -Darbor.sim.faults=...} (replay one seed with this schedule), {@code -Darbor.sim.threads=T}.
 */
class SimulationTest {
  @TempDir
  Path dir;

  @Test
  void seedsRunWithoutViolations() throws Exception {
    SimulationCampaign campaign = SimulationCampaign.fromSystemProperties(SimulationCampaign.workDir(dir));
    SimulationCampaign.Result r = campaign.run();
    System.out.println(r.summaryLine());
    assertThat(r.failures().size()).as(r.failureReport()).isZero();
    assertThat(r.seeds()).isEqualTo(campaign.seedCount());
  }
}
