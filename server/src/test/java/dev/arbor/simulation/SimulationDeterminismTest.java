package dev.arbor.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A seed is a run: the same seed twice takes the same steps at the same virtual times and counts the same. */
class SimulationDeterminismTest {
  @TempDir
  Path dir;

  @Test
  void aSeedRunTwiceTakesTheSameSteps() throws Exception {
    long seed = Long.getLong("arbor.sim.determinismSeed", 23);
    Path work = SimulationCampaign.workDir(dir);
    Simulation.Outcome a = Simulation.run(seed, work.resolve("a"), null, true, dev.arbor.property.DefectSwitches.NONE);
    Simulation.Outcome b = Simulation.run(seed, work.resolve("b"), null, true, dev.arbor.property.DefectSwitches.NONE);
    System.out.println("simulation determinism: seed " + seed + ", " + a.journal().size() + " steps");
    assertThat(firstDifference(a.journal(), b.journal())).as("first step that differs").isEqualTo("none");
    assertThat(b.totals()).isEqualTo(a.totals());
    assertThat(b.fingerprint()).isEqualTo(a.fingerprint());
  }

  private static String firstDifference(List<String> a, List<String> b) {
    for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
      if (!a.get(i).equals(b.get(i))) {
        return "step " + i + ": " + a.get(i) + " | " + b.get(i);
      }
    }
    return a.size() == b.size() ? "none" : "lengths " + a.size() + " and " + b.size();
  }
}
