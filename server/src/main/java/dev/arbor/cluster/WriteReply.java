package dev.arbor.cluster;

import dev.arbor.api.cluster.v1.WriteOutcome;
import java.util.List;

/**
 * A data node's answer to a Write: one outcome per record sent, in order, and why the first
 * rejected record was rejected (empty when none was).
 */
public record WriteReply(List<WriteOutcome> outcomes, String rejection) {
  public WriteReply {
    outcomes = List.copyOf(outcomes);
  }

  /** True when the node holds every record sent: each was stored or was already there. */
  public boolean holdsAll() {
    return outcomes.stream().allMatch(
        o -> o == WriteOutcome.WRITE_OUTCOME_STORED || o == WriteOutcome.WRITE_OUTCOME_NOT_STORED_EQUAL);
  }

  /** True when the node kept a different, equal-or-newer version of some record sent. */
  public boolean heldNewer() {
    return outcomes.contains(WriteOutcome.WRITE_OUTCOME_NOT_STORED_NEWER);
  }

  /** True when the node refused some record as invalid. */
  public boolean rejected() {
    return outcomes.contains(WriteOutcome.WRITE_OUTCOME_REJECTED);
  }

  public int stored() {
    return (int) outcomes.stream().filter(WriteOutcome.WRITE_OUTCOME_STORED::equals).count();
  }
}
