package dev.arbor.cluster;

import dev.arbor.api.cluster.v1.WriteOutcome;
import java.util.Collections;
import java.util.List;

/**
 * A data node's answer to a Write: one outcome per record sent, in order, why the first
 * rejected record was rejected (empty when none was), and why each record was rejected (one per
 * record, empty for those not rejected; all empty from a node that predates per-record reasons).
 */
public record WriteReply(List<WriteOutcome> outcomes, String rejection, List<String> reasons) {
  public WriteReply {
    outcomes = List.copyOf(outcomes);
    reasons = reasons.isEmpty() ? Collections.nCopies(outcomes.size(), "") : List.copyOf(reasons);
    if (reasons.size() != outcomes.size()) {
      throw new IllegalArgumentException(reasons.size() + " rejection reasons for " + outcomes.size() + " outcomes");
    }
  }

  public WriteReply(List<WriteOutcome> outcomes, String rejection) {
    this(outcomes, rejection, List.of());
  }

  /**
   * The answer for records {@code [from, to)} of the request alone, as if they had been sent by
   * themselves: a liaison that sent several callers' records in one Write hands each caller its
   * slice. The rejection is that of the slice's first rejected record, with its position counted
   * from the slice's start; from a node without per-record reasons it is the whole reply's.
   */
  public WriteReply slice(int from, int to) {
    List<WriteOutcome> mine = outcomes.subList(from, to);
    List<String> why = reasons.subList(from, to);
    String first = "";
    for (int i = 0; i < mine.size(); i++) {
      if (mine.get(i) == WriteOutcome.WRITE_OUTCOME_REJECTED) {
        String r = why.get(i);
        String batchField = "properties[" + (from + i) + "]";
        first = r.isEmpty() ? rejection
            : r.startsWith(batchField) ? "properties[" + i + "]" + r.substring(batchField.length()) : r;
        break;
      }
    }
    return new WriteReply(mine, first, why);
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
