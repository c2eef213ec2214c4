package dev.arbor.repair.sync;

import java.util.ArrayList;
import java.util.List;

/** Records of a session that failed their checks: how many, and the first few reasons. */
final class Rejections {
  static final int MAX_REASONS = 3;

  private long count;
  private final List<String> reasons = new ArrayList<>(MAX_REASONS);

  void add(String reason) {
    count++;
    if (reasons.size() < MAX_REASONS) {
      reasons.add(reason);
    }
  }

  /** Counts {@code n} rejections reported by the peer, keeping its reasons while there is room. */
  void addAll(long n, List<String> peerReasons) {
    count += n;
    for (String r : peerReasons) {
      if (reasons.size() < MAX_REASONS) {
        reasons.add(r);
      }
    }
  }

  long count() {
    return count;
  }

  boolean any() {
    return count > 0;
  }

  /** "N record(s) rejected: reason; reason; …". */
  String describe(String what) {
    return count + " " + what + " rejected: " + String.join("; ", reasons) + (count > reasons.size() ? "; …" : "");
  }
}
