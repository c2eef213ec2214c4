package dev.arbor.property;

import java.util.Comparator;

/**
 * The single total order used by storage, the liaison's read merge and repair: a higher
 * {@code mod_revision} wins; at equal revision a tombstone wins over a live copy; between
 * tombstones the later delete time wins. Versions that compare equal are "in sync" and are never
 * re-sent (no echo loop, no resurrection).
 */
public final class LastWriteWins {
  /** Orders records from loser to winner. */
  public static final Comparator<PropertyRecord> ORDER =
      Comparator.comparingLong(PropertyRecord::modRevision)
          .thenComparing(PropertyRecord::deleted)
          .thenComparingLong(PropertyRecord::deleteTime);

  private LastWriteWins() {}

  /** True when {@code incoming} strictly beats {@code current} (a missing current always loses). */
  public static boolean beats(PropertyRecord incoming, PropertyRecord current) {
    return current == null || ORDER.compare(incoming, current) > 0;
  }
}
