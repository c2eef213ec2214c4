package dev.arbor.observability.trace;

import java.util.Map;
import java.util.Objects;

/**
 * One finished span of a repair round (spec §10.2): a round, a hop, a session or a step of one.
 * Times are epoch nanoseconds. Spans of one round share {@code traceId} across nodes; {@code
 * parentSpanId} links a span to the one it ran under (empty for the round's root span).
 *
 * @param sequence the propagation count when the span started (0 on the origin)
 * @param tags free attributes: target_node, operate_type, root_match, counts, ...
 */
public record RepairSpan(
    String traceId,
    String spanId,
    String parentSpanId,
    String nodeId,
    String message,
    long startNanos,
    long endNanos,
    boolean error,
    String errorReason,
    int sequence,
    String group,
    int shard,
    Map<String, String> tags) {

  public RepairSpan {
    Objects.requireNonNull(traceId, "traceId");
    Objects.requireNonNull(spanId, "spanId");
    parentSpanId = parentSpanId == null ? "" : parentSpanId;
    errorReason = errorReason == null ? "" : errorReason;
    message = message == null ? "" : message;
    tags = tags == null ? Map.of() : Map.copyOf(tags);
  }

  public long durationNanos() {
    return endNanos - startNanos;
  }
}
