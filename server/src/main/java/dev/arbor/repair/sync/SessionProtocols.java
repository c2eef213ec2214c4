package dev.arbor.repair.sync;

/**
 * The repair session protocols a node speaks, {@code min..max}: 1 = slots, then buckets and leaf
 * pages; 2 = a compact slot table, then a descent into the differing halves of each differing
 * slot, so the bytes grow with the differences, not with the shard; 3 = 2 with each listed leaf's
 * mod revision, so a client whose copy loses fetches the server's instead of pushing its own (a
 * record travels once where the server's copy wins). Both sides use the highest
 * version both speak; nodes with none in common refuse the session (FAILED_PRECONDITION).
 */
public record SessionProtocols(int min, int max) {
  public static final int SLOTS_AND_BUCKETS = 1;
  public static final int DESCENT = 2;
  public static final int LISTED_REVISIONS = 3;
  /** What this release speaks. */
  public static final SessionProtocols DEFAULTS = new SessionProtocols(SLOTS_AND_BUCKETS, LISTED_REVISIONS);

  public SessionProtocols {
    if (min < SLOTS_AND_BUCKETS || max > LISTED_REVISIONS || min > max) {
      throw new IllegalArgumentException("session protocols must be within " + SLOTS_AND_BUCKETS + ".." + LISTED_REVISIONS
          + ", got " + min + ".." + max);
    }
  }

  /** A peer's announced version as a number: 0 (it predates the field) is 1. */
  static int announced(int wire) {
    return wire == 0 ? SLOTS_AND_BUCKETS : wire;
  }

  boolean speaks(int version) {
    return version >= min && version <= max;
  }

  @Override
  public String toString() {
    return min == max ? Integer.toString(min) : min + ".." + max;
  }
}
