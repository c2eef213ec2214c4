package dev.arbor.property;

import java.time.Duration;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * How far ahead of this node's clock a received version may be. Last-write-wins trusts
 * revisions: one far in the future (a sender's broken clock, or a forged record) would win
 * every later write of its key until the clock caught up, and one near {@code Long.MAX_VALUE}
 * would leave no revision above it. Such records are refused on receipt.
 */
public record RevisionBound(LongSupplier wallNanos, long maxAheadNanos) {
  /** Accepts everything (for callers with no clock to compare with, e.g. tools reading files). */
  public static final RevisionBound NONE = new RevisionBound(() -> 0L, Long.MAX_VALUE);

  public static RevisionBound of(LongSupplier wallNanos, Duration maxAhead) {
    return new RevisionBound(wallNanos, maxAhead.toNanos());
  }

  /** Why {@code r} must be refused, or empty when it is within the bound. */
  public Optional<String> problem(PropertyRecord r) {
    if (maxAheadNanos == Long.MAX_VALUE) {
      return Optional.empty();
    }
    long now = wallNanos.getAsLong();
    long limit = now > Long.MAX_VALUE - maxAheadNanos ? Long.MAX_VALUE : now + maxAheadNanos;
    if (r.modRevision() > limit) {
      return Optional.of("mod_revision " + r.modRevision() + " is " + aheadText(r.modRevision() - now)
          + " ahead of this node's clock (at most " + Duration.ofNanos(maxAheadNanos) + " is accepted)");
    }
    if (r.deleteTime() > limit) {
      return Optional.of("delete_time " + r.deleteTime() + " is " + aheadText(r.deleteTime() - now)
          + " ahead of this node's clock (at most " + Duration.ofNanos(maxAheadNanos) + " is accepted)");
    }
    return Optional.empty();
  }

  /**
   * Why a record its writer stamped just now must be refused: a tombstone whose delete time is
   * further behind this node's clock than the bound (the writer's clock runs behind, which would
   * shorten the tombstone's grace everywhere); empty otherwise.
   */
  public Optional<String> freshProblem(PropertyRecord r) {
    if (maxAheadNanos == Long.MAX_VALUE || !r.deleted()) {
      return Optional.empty();
    }
    long now = wallNanos.getAsLong();
    if (r.deleteTime() < now - maxAheadNanos) {
      return Optional.of("delete_time " + r.deleteTime() + " is " + Duration.ofNanos(now - r.deleteTime())
          + " behind this node's clock (at most " + Duration.ofNanos(maxAheadNanos)
          + " is accepted for a fresh delete): the writer's clock runs behind");
    }
    return Optional.empty();
  }

  private static String aheadText(long nanos) {
    return nanos < 0 ? "far" : Duration.ofNanos(nanos).toString();
  }
}
