package dev.arbor.check;

import dev.arbor.check.History.Op;
import dev.arbor.check.History.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Judges what every replica holds for each key against a {@link History}.
 *
 * <p>A final state (a value, or absent) is <em>explained</em> by an operation that was not
 * refused (acknowledged or unknown) and that no acknowledged operation strictly follows in real
 * time (an acknowledged operation invoked after it completed supersedes it). Anything else is a
 * violation, classified as:
 * <ul>
 *   <li><b>resurrection</b>: the replica holds a value although an acknowledged delete supersedes
 *       the write that produced it (or the value is older than an acknowledged delete);
 *   <li><b>lost write</b>: the replica does not hold what the last acknowledged operations leave
 *       (an acknowledged write superseded by nothing is missing or replaced by an older value);
 *   <li><b>refused write visible</b>: a replica holds the value of a write its client was told
 *       had failed (an error that means "not applied", not one of unknown outcome);
 *   <li><b>divergence</b>: replicas of one key disagree (after a final repair they must not).
 * </ul>
 */
public final class ReplicaChecker {
  /** One key's violation on one replica. */
  public record Violation(String kind, String key, String replica, String detail) {
    @Override
    public String toString() {
      return kind + " " + key + " on " + replica + ": " + detail;
    }
  }

  /** Counts and the first violations, for the closing report. */
  public record Report(int keys, int replicaCopies, long acked, long failed, long unknown,
      int resurrections, int lostWrites, int divergences, List<Violation> violations) {
    public boolean clean() {
      return violations.isEmpty();
    }

    public String summary() {
      return "keys " + keys + ", replica copies checked " + replicaCopies + ", ops acked " + acked + " failed "
          + failed + " unknown " + unknown + ", resurrections " + resurrections + ", lost writes " + lostWrites
          + ", divergences " + divergences;
    }
  }

  private ReplicaChecker() {}

  /**
   * @param history what clients were told
   * @param replicas for each replica name, key → value held (null or missing = absent: never
   *     written, deleted, or purged)
   * @param replicasOfKey the replicas that must hold each key (a key's replica set)
   */
  public static Report check(History history, Map<String, Map<String, String>> replicas,
      java.util.function.Function<String, List<String>> replicasOfKey) {
    List<Violation> out = new ArrayList<>();
    int resurrections = 0;
    int lost = 0;
    int divergences = 0;
    int copies = 0;
    for (String key : history.keys()) {
      List<Op> ops = history.ops(key);
      List<Op> frontier = frontier(ops);
      String first = null;
      String firstReplica = null;
      for (String replica : replicasOfKey.apply(key)) {
        copies++;
        String held = replicas.getOrDefault(replica, Map.of()).get(key);
        if (firstReplica == null) {
          first = held;
          firstReplica = replica;
        } else if (!Objects.equals(first, held)) {
          divergences++;
          out.add(new Violation("divergence", key, replica, "holds " + show(held) + " but " + firstReplica
              + " holds " + show(first)));
        }
        if (explained(held, frontier)) {
          continue;
        }
        Op producer = held == null ? null
            : ops.stream().filter(o -> held.equals(o.value())).findFirst().orElse(null);
        if (producer != null && producer.outcome() == Outcome.FAILED) {
          out.add(new Violation("refused write visible", key, replica, "holds " + show(held)
              + " from " + producer + ", whose client was told it failed"));
        } else if (producer != null && deletedAfter(ops, producer)) {
          resurrections++;
          out.add(new Violation("resurrection", key, replica, "holds " + show(held)
              + " although an acknowledged delete followed it; allowed: " + frontier));
        } else if (producer != null) {
          lost++;
          out.add(new Violation("lost write", key, replica, "holds the stale " + show(held) + "; allowed: " + frontier));
        } else if (held != null) {
          out.add(new Violation("foreign value", key, replica, "holds " + show(held) + " which no client wrote"));
        } else {
          lost++;
          out.add(new Violation("lost write", key, replica, "holds nothing; allowed: " + frontier));
        }
      }
    }
    return new Report(history.keys().size(), copies, history.count(Outcome.ACKED), history.count(Outcome.FAILED),
        history.count(Outcome.UNKNOWN), resurrections, lost, divergences, List.copyOf(out));
  }

  /**
   * The operations that may have the last word: not refused, and not strictly followed by an
   * acknowledged operation. With no acknowledged operation at all, "absent" is allowed too.
   */
  public static List<Op> frontier(List<Op> ops) {
    List<Op> out = new ArrayList<>();
    for (Op o : ops) {
      if (o.outcome() == Outcome.FAILED) {
        continue;
      }
      boolean superseded = ops.stream()
          .anyMatch(a -> a.outcome() == Outcome.ACKED && a.invokedAt() > o.completedAt());
      if (!superseded) {
        out.add(o);
      }
    }
    return out;
  }

  private static boolean deletedAfter(List<Op> ops, Op write) {
    return ops.stream().anyMatch(o -> o.isDelete() && o.outcome() == Outcome.ACKED && o.invokedAt() > write.completedAt());
  }

  private static boolean explained(String held, List<Op> frontier) {
    boolean anyAcked = frontier.stream().anyMatch(o -> o.outcome() == Outcome.ACKED);
    if (held == null) {
      return !anyAcked || frontier.stream().anyMatch(Op::isDelete);
    }
    return frontier.stream().anyMatch(o -> held.equals(o.value()));
  }

  private static String show(String v) {
    return v == null ? "nothing" : "'" + v + "'";
  }
}
