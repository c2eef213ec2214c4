package dev.arbor.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.property.DefectSwitches;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeds that found production defects, with their shrunk fault schedules: a run is
 * deterministic, so each fails again if its defect comes back.
 */
class SimulationRegressionTest {
  @TempDir
  Path dir;

  /**
   * A delete whose pre-read missed the only replica holding an acknowledged write (a storm lost
   * the read) found the old tombstone elsewhere, wrote nothing new and was acknowledged; repair
   * then brought the write back. A delete that cannot read every replica now writes a fresh
   * tombstone.
   */
  @Test
  void aDeleteThatMissedAReplicaStillBeatsTheWriteItMissed() throws Exception {
    Simulation.Outcome o = Simulation.run(147, SimulationCampaign.workDir(dir).resolve("147"),
        Fault.parse("stop@44846+2733:n2,storm@48726+620:n2"), false, DefectSwitches.NONE);
    assertThat(o.problems()).isEmpty();
  }

  /** The same defect through another schedule (a group re-created, restarts, a short storm). */
  @Test
  void aDeleteAfterRestartsAndAStormStaysDeleted() throws Exception {
    Simulation.Outcome o = Simulation.run(190, SimulationCampaign.workDir(dir).resolve("190"),
        Fault.parse("group_churn@2708+1728:n2,stop@29886+961:n3,storm@33256+147:n2,stop@34725+3580:n2,"
            + "stop@41622+7522:n1"), false, DefectSwitches.NONE);
    assertThat(o.problems()).isEmpty();
  }

  /** Rounds of several shards started within one clock tick all end (their ids used to collide). */
  @Test
  void everyRoundEndsWhenAnOriginStartsSeveralInOneTick() throws Exception {
    Simulation.Outcome o = Simulation.run(11, SimulationCampaign.workDir(dir).resolve("11"), null, false,
        DefectSwitches.NONE);
    assertThat(o.problems()).isEmpty();
  }
}
