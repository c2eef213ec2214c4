package dev.arbor.repair.coverage;

import java.util.List;

/**
 * The latest round of a shard that covered its whole ring.
 *
 * @param roundStartNanos when the round started, on its origin's wall clock (ns since the epoch):
 *     whatever any replica of the ring held then, every replica of the ring held once it ended
 * @param roundId the round, for logs
 * @param ring the replica nodes the round covered, in placement order
 */
public record CoverageWatermark(long roundStartNanos, String roundId, List<String> ring) {
  public CoverageWatermark {
    ring = List.copyOf(ring);
  }
}
