package dev.arbor.observability.trace;

import dev.arbor.api.repair.v1.Span;

/** Converts spans between the in-process value {@link RepairSpan} and the wire message {@link Span}. */
public final class SpanProtos {
  private SpanProtos() {}

  public static Span toProto(RepairSpan s) {
    return Span.newBuilder()
        .setTraceId(s.traceId())
        .setSpanId(s.spanId())
        .setParentSpanId(s.parentSpanId())
        .setNodeId(s.nodeId() == null ? "" : s.nodeId())
        .setMessage(s.message())
        .setStartUnixNanos(s.startNanos())
        .setEndUnixNanos(s.endNanos())
        .setError(s.error())
        .setErrorReason(s.errorReason())
        .setSequenceNumber(s.sequence())
        .setGroup(s.group() == null ? "" : s.group())
        .setShard(s.shard())
        .putAllTags(s.tags())
        .build();
  }

  public static RepairSpan fromProto(Span p) {
    return new RepairSpan(
        p.getTraceId(),
        p.getSpanId(),
        p.getParentSpanId(),
        p.getNodeId(),
        p.getMessage(),
        p.getStartUnixNanos(),
        p.getEndUnixNanos(),
        p.getError(),
        p.getErrorReason(),
        p.getSequenceNumber(),
        p.getGroup(),
        p.getShard(),
        p.getTagsMap());
  }
}
