package dev.arbor.bench.repair;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * How the replicas of the scenario's group are made to differ before the repair. In every
 * scenario one replica (the <em>victim</em>, the last in placement order) is the one that misses
 * data; it is stopped with SIGKILL (so it stays registered and keeps its shards) and started again
 * on the same data directory and ports before the repair.
 */
enum Scenario {
  FULL("full", "the victim was down during every write: it holds none of the N properties"),
  HALF("half", "the victim was down during the second half of the writes: it lacks N/2"),
  SAME("same", "every write reached every replica: nothing to repair"),
  ONE_DIFF("one-diff", "all N written everywhere, then 1 property updated while the victim was down"),
  DELETES("deletes", "all N written everywhere, then every 10th deleted while the victim was down"),
  DIFFS("diffs", "all N written everywhere, then D properties spread over the shard updated while the"
      + " victim was down (diffs@D)");

  final String label;
  final String description;

  Scenario(String label, String description) {
    this.label = label;
    this.description = description;
  }

  /** Properties the victim misses or holds in an older version after the divergence. */
  long expectedDiverged(int n, int diffs) {
    return switch (this) {
      case DIFFS -> Math.min(diffs, n);
      case FULL -> n;
      case HALF -> n - n / 2;
      case SAME -> 0;
      case ONE_DIFF -> 1;
      case DELETES -> deletedCount(n);
    };
  }

  /** Deleted ids of the {@code deletes} scenario: every index i with i % 10 == 0. */
  static int deletedCount(int n) {
    return (n + 9) / 10;
  }

  /**
   * The ids updated by {@code diffs@D}: D indexes spread evenly over 0..n-1 (so over the shard's
   * slots and buckets, whose hashes of the entity are unrelated to the index).
   */
  static List<Integer> spread(int n, int diffs) {
    int d = Math.min(diffs, n);
    List<Integer> ids = new ArrayList<>(d);
    for (int k = 0; k < d; k++) {
      ids.add((int) ((long) k * n / d + (long) n / (2L * d)));
    }
    return ids;
  }

  boolean stopsVictim() {
    return this != SAME;
  }

  static Scenario parse(String s) {
    String v = s.trim().toLowerCase(Locale.ROOT);
    for (Scenario x : values()) {
      if (x.label.equals(v) || x.name().toLowerCase(Locale.ROOT).equals(v)) {
        return x;
      }
    }
    throw new IllegalArgumentException("unknown scenario '" + s + "' (expected one of "
        + Arrays.stream(values()).map(x -> x.label).toList() + " or all)");
  }
}
