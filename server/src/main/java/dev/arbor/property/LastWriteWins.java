package dev.arbor.property;

import java.util.Arrays;
import java.util.Comparator;

/**
 * The single total order used by storage, the liaison's read merge and repair: a higher
 * {@code mod_revision} wins; at equal revision a tombstone wins over a live copy; between
 * tombstones the later delete time wins; what is still tied is decided by the content hash
 * ({@code sha}, unsigned lexicographic), the larger winning.
 *
 * <p>The content tie-break matters because two liaisons whose clocks are a few ms apart can both
 * stamp {@code floor + 1} on one key with different bytes: without it each replica keeps its own
 * copy, repair sees the leaves differ, pushes, and nothing is ever stored. With it, versions that
 * compare equal have the same hash, so the same source bytes and delete time: they are "in sync"
 * and are never re-sent (no echo loop, no resurrection).
 */
public final class LastWriteWins {
  /** Orders records from loser to winner. */
  public static final Comparator<PropertyRecord> ORDER =
      Comparator.comparingLong(PropertyRecord::modRevision)
          .thenComparing(PropertyRecord::deleted)
          .thenComparingLong(PropertyRecord::deleteTime)
          .thenComparing(PropertyRecord::sha, Arrays::compareUnsigned);

  /** {@link #ORDER} without its content-hash tie-break: the defective order a test may switch on. */
  private static final Comparator<PropertyRecord> WITHOUT_TIE_BREAK =
      Comparator.comparingLong(PropertyRecord::modRevision)
          .thenComparing(PropertyRecord::deleted)
          .thenComparingLong(PropertyRecord::deleteTime);

  private LastWriteWins() {}

  /**
   * The order a component uses: {@link #ORDER}, or the order without the tie-break when a test
   * switched {@link Defect#NO_CONTENT_TIE_BREAK} on.
   */
  public static Comparator<PropertyRecord> order(DefectSwitches defects) {
    return defects.has(Defect.NO_CONTENT_TIE_BREAK) ? WITHOUT_TIE_BREAK : ORDER;
  }

  /** True when {@code incoming} strictly beats {@code current} (a missing current always loses). */
  public static boolean beats(PropertyRecord incoming, PropertyRecord current) {
    return beats(incoming, current, ORDER);
  }

  /** As {@link #beats(PropertyRecord, PropertyRecord)} under {@code order} (see {@link #order}). */
  public static boolean beats(PropertyRecord incoming, PropertyRecord current, Comparator<PropertyRecord> order) {
    return current == null || order.compare(incoming, current) > 0;
  }

  /**
   * Which rule of {@link #ORDER} puts {@code winner} above {@code loser}, in words (operators read
   * it in the console); "identical" when they compare equal. Follows ORDER's rules in ORDER's
   * sequence, so the explanation is the comparison that decided.
   */
  public static String why(PropertyRecord winner, PropertyRecord loser) {
    if (winner.modRevision() != loser.modRevision()) {
      return "newer mod revision (" + winner.modRevision() + " > " + loser.modRevision() + ")";
    }
    if (winner.deleted() != loser.deleted()) {
      return "tombstone wins at equal mod revision";
    }
    if (winner.deleteTime() != loser.deleteTime()) {
      return "later delete time at equal mod revision";
    }
    if (Arrays.compareUnsigned(winner.sha(), loser.sha()) != 0) {
      return "larger content hash breaks the tie at equal revision";
    }
    return "identical";
  }
}
