package dev.arbor.repair.coverage;

import dev.arbor.api.repair.v1.HopResult;
import dev.arbor.api.repair.v1.RoundOutcome;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Whether a round brought every node of its ring to the same data. A round's budget of 2n − 3
 * sessions carries every version to every node only along its planned chain (each node repairs
 * with the next one of the ring): a skipped node (down, failing) leaves a gap some versions do
 * not cross, and a lost hop report leaves the origin unable to tell. So a round covers its ring
 * only when it COMPLETED with its whole budget of successful hops reported, none skipping a
 * node, and every node of the ring taking part.
 */
public final class RoundCoverage {
  private RoundCoverage() {}

  public static boolean covered(List<String> ring, RoundOutcome outcome, List<HopResult> hops) {
    if (!"COMPLETED".equals(outcome.getStatus()) || ring.size() < 2) {
      return false;
    }
    int budget = outcome.getMaxPropagationCount();
    if (budget != 2 * ring.size() - 3 || outcome.getPropagationCount() != budget || hops.size() != budget) {
      return false;
    }
    Set<String> seen = new HashSet<>();
    for (HopResult h : hops) {
      if (!h.getSuccess() || h.getSkippedCount() > 0) {
        return false;
      }
      seen.add(h.getClientNode());
      seen.add(h.getServerNode());
    }
    return seen.containsAll(ring);
  }
}
