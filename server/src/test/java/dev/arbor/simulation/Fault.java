package dev.arbor.simulation;

import java.util.ArrayList;
import java.util.List;

/**
 * One fault of a run's schedule: what, on which node (or side), when, for how long. A schedule
 * prints as one token per fault ({@code crash@12000+3000:n2}) so a shrunk schedule can be replayed
 * with {@code -Darbor.sim.faults=...}.
 */
record Fault(Kind kind, long atMillis, long forMillis, String node) {
  enum Kind {
    /** {@code kill -9}: the process dies, the data directory stays as the page cache left it; restarted after. */
    CRASH,
    /** SIGTERM: a clean stop (checkpoint), restarted after. */
    STOP,
    /** The node (and whoever is on its side) cannot reach the others, then it heals. */
    PARTITION,
    /** The liaisons cannot reach the node, which still reaches its peers (and they it), then it heals. */
    CUT,
    /** The network drops, loses replies, duplicates and delays far more for a while. */
    STORM,
    /** The node's clock runs ahead by up to the allowed skew for a while. */
    SKEW,
    /** The node crashes; while it is down the group is deleted and created again; then it restarts. */
    GROUP_CHURN,
    /**
     * The machine loses power: what the node wrote but did not fsync is lost (see {@link SimDisk});
     * restarted after.
     */
    POWER,
    /**
     * The node's disk fails the write-ahead log's fsyncs with EIO for a while (the log must latch
     * and refuse writes); at the end the machine is power-cycled and the node restarts.
     */
    FSYNC_FAIL,
    /** A liaison's clock runs behind by far more than the allowed skew for a while (rarer: drawn apart). */
    FAR_SKEW;

    /** Disk faults are drawn apart from the others ({@link SimDiskFaults}), so adding them kept every seed's other faults. */
    boolean disk() {
      return this == POWER || this == FSYNC_FAIL;
    }
  }

  String token() {
    return kind.name().toLowerCase() + "@" + atMillis + "+" + forMillis + ":" + node;
  }

  static String tokens(List<Fault> faults) {
    return String.join(",", faults.stream().map(Fault::token).toList());
  }

  static List<Fault> parse(String text) {
    List<Fault> out = new ArrayList<>();
    if (text == null || text.isBlank()) {
      return out;
    }
    for (String t : text.split(",")) {
      try {
        int at = t.indexOf('@');
        int plus = t.indexOf('+', at);
        int colon = t.indexOf(':', plus);
        out.add(new Fault(Kind.valueOf(t.substring(0, at).trim().toUpperCase()),
            Long.parseLong(t.substring(at + 1, plus)), Long.parseLong(t.substring(plus + 1, colon)),
            t.substring(colon + 1).trim()));
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("cannot read fault '" + t + "': want kind@atMillis+forMillis:node, e.g."
            + " crash@12000+3000:n2", e);
      }
    }
    return out;
  }
}
