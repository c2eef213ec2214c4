package dev.arbor.repair.gossip;

import dev.arbor.api.repair.v1.RoundOutcome;

/** The statuses a round can end with, and their construction. */
public final class RoundOutcomes {
  public static final String COMPLETED = "COMPLETED";
  public static final String FAILED = "FAILED";
  public static final String SKIPPED = "SKIPPED";
  public static final String SUPERSEDED = "SUPERSEDED";
  public static final String ABORTED = "ABORTED";

  /** Every status a round can end with. */
  public static final java.util.Set<String> ALL = java.util.Set.of(COMPLETED, FAILED, SKIPPED, SUPERSEDED, ABORTED);

  private RoundOutcomes() {}

  public static RoundOutcome of(String status, String message, int count, int max, String node) {
    return RoundOutcome.newBuilder().setStatus(status).setMessage(message == null ? "" : message)
        .setPropagationCount(count).setMaxPropagationCount(max).setEndedOnNode(node).build();
  }
}
