package dev.arbor.repair.coverage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.repair.v1.HopResult;
import dev.arbor.api.repair.v1.RoundOutcome;
import java.util.List;
import org.junit.jupiter.api.Test;

class RoundCoverageTest {
  private static final List<String> RING = List.of("a", "b", "c");

  private static HopResult hop(String client, String server) {
    return HopResult.newBuilder().setClientNode(client).setServerNode(server).setSuccess(true).build();
  }

  private static RoundOutcome outcome(String status, int count) {
    return RoundOutcome.newBuilder().setStatus(status).setPropagationCount(count).setMaxPropagationCount(3).build();
  }

  @Test
  void onlyTheFullPlannedChainCoversTheRing() {
    List<HopResult> chain = List.of(hop("a", "b"), hop("b", "c"), hop("c", "a"));
    assertThat(RoundCoverage.covered(RING, outcome("COMPLETED", 3), chain)).isTrue();
    assertThat(RoundCoverage.covered(RING, outcome("FAILED", 3), chain)).isFalse();
    assertThat(RoundCoverage.covered(RING, outcome("COMPLETED", 3), chain.subList(0, 2)))
        .as("a hop report lost").isFalse();
    List<HopResult> skipping = List.of(hop("a", "c").toBuilder().addSkipped("b: down").build(), hop("c", "a"),
        hop("a", "b"));
    assertThat(RoundCoverage.covered(RING, outcome("COMPLETED", 3), skipping)).as("b skipped once").isFalse();
    assertThat(RoundCoverage.covered(RING, outcome("COMPLETED", 3),
        List.of(hop("a", "b"), hop("b", "a"), hop("a", "b")))).as("c never took part").isFalse();
  }
}
