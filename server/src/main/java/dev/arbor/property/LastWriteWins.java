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

  private LastWriteWins() {}

  /** True when {@code incoming} strictly beats {@code current} (a missing current always loses). */
  public static boolean beats(PropertyRecord incoming, PropertyRecord current) {
    return current == null || ORDER.compare(incoming, current) > 0;
  }
}
