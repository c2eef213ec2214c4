package dev.arbor.observability.trace;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/** Test spans with explicit start times. */
final class Spans {
  private Spans() {}

  static long nanos(Instant t) {
    return t.getEpochSecond() * 1_000_000_000L + t.getNano();
  }

  static long agoNanos(Duration d) {
    return nanos(Instant.now().minus(d));
  }

  static RepairSpan span(String traceId, String spanId, String node, String group, long startNanos) {
    return new RepairSpan(traceId, spanId, "", node, "sync properties", startNanos,
        startNanos + 2_500_000L, false, "", 0, group, 1, Map.of("operate_type", "start_sync"));
  }
}
