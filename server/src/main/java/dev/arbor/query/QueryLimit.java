package dev.arbor.query;

import dev.arbor.errors.InvalidArgumentException;

/**
 * How a query's {@code limit} (a proto {@code uint32}) is read. Java sees values of 2^31 and
 * above as negative ints, which once slipped past the {@code > max} check; every reader goes
 * through here so the field is always read as unsigned.
 */
public final class QueryLimit {
  /** {@code limit = 0} means this many, as the BanyanDB client expects. */
  public static final int DEFAULT = 100;
  /**
   * The most a data node returns for one query, whoever asks: the ceiling of
   * {@code --max-query-limit}, so a direct internal call cannot make a node build an unbounded
   * result in memory.
   */
  public static final int HARD_MAX = 100_000;

  private QueryLimit() {}

  /** The unsigned value of a raw {@code uint32 limit}. */
  public static long unsigned(int raw) {
    return Integer.toUnsignedLong(raw);
  }

  /** The limit to apply at the public edge: 0 → default, above {@code max} → INVALID_ARGUMENT. */
  public static int checked(int raw, int max) {
    long limit = unsigned(raw);
    if (limit > max) {
      throw new InvalidArgumentException("limit: " + limit + " exceeds the maximum of " + max);
    }
    return limit == 0 ? DEFAULT : (int) limit;
  }

  /** The limit a data node applies: 0 → default, clamped to {@link #HARD_MAX}. */
  public static int clamped(int raw) {
    long limit = unsigned(raw);
    return limit == 0 ? DEFAULT : (int) Math.min(limit, HARD_MAX);
  }
}
