package dev.arbor.cluster;

import dev.arbor.errors.InvalidArgumentException;
import java.util.Locale;

/**
 * How many replicas must acknowledge a write (or delete) before it succeeds. {@code copies} is the
 * length of the placement list actually written (after capping).
 */
public enum WriteConsistency {
  /** At least one replica (the default, as upstream). */
  ONE,
  /** A majority: {@code copies / 2 + 1}. */
  QUORUM,
  /** Every replica. */
  ALL;

  public static final WriteConsistency DEFAULT = ONE;

  /** Acknowledgements required out of {@code copies} replicas. */
  public int required(int copies) {
    if (copies < 1) {
      throw new IllegalArgumentException("copies must be >= 1, got " + copies);
    }
    return switch (this) {
      case ONE -> 1;
      case QUORUM -> copies / 2 + 1;
      case ALL -> copies;
    };
  }

  /** Whether {@code acks} acknowledgements out of {@code copies} replicas satisfy this level. */
  public boolean isMet(int acks, int copies) {
    return acks >= required(copies);
  }

  /** The flag/text spelling: {@code one}, {@code quorum}, {@code all}. */
  public String text() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * Parses {@code one}, {@code quorum} or {@code all}, case-insensitively, ignoring surrounding
   * whitespace.
   *
   * @throws InvalidArgumentException for anything else, naming the accepted values
   */
  public static WriteConsistency parse(String text) {
    if (text != null) {
      String t = text.strip().toUpperCase(Locale.ROOT);
      for (WriteConsistency c : values()) {
        if (c.name().equals(t)) {
          return c;
        }
      }
    }
    throw new InvalidArgumentException(
        "invalid write consistency " + (text == null ? "null" : "'" + text + "'")
            + ": expected one of one, quorum, all");
  }
}
