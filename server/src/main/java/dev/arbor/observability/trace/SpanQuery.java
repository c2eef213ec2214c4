package dev.arbor.observability.trace;

/**
 * Which spans to read from one node: optionally one group and one trace, those started at or
 * after {@code sinceNanos} (epoch nanoseconds), at most {@code limit} of them (the earliest).
 *
 * @param group only spans of this group; null (or blank) for every group
 * @param traceId only spans of this trace; null (or blank) for every trace
 */
public record SpanQuery(String group, long sinceNanos, String traceId, int limit) {
  public SpanQuery {
    group = group == null || group.isBlank() ? null : group;
    traceId = traceId == null || traceId.isBlank() ? null : traceId;
    if (sinceNanos < 0) {
      throw new IllegalArgumentException("sinceNanos must be >= 0: " + sinceNanos);
    }
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be >= 1: " + limit);
    }
  }

  /** Every retained span, up to {@code limit}. */
  public static SpanQuery all(int limit) {
    return new SpanQuery(null, 0, null, limit);
  }
}
