package dev.arbor.console;

import dev.arbor.api.repair.v1.Span;
import dev.arbor.api.repair.v1.TracesResponse;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Repair rounds read back from trace spans: a round is its origin's {@code repair round} span
 * (id, ring, outcome) and the {@code start_sync} spans of the same trace (one per hop, with the
 * bytes moved and properties repaired).
 */
final class RoundTimeline {
  static final String ROUND_SPAN = "repair round";

  private RoundTimeline() {}

  /** The newest {@code limit} rounds, newest first. */
  static List<Map<String, Object>> rounds(TracesResponse traces, int limit) {
    Map<String, List<Span>> byTrace = new HashMap<>();
    List<Span> roots = new ArrayList<>();
    for (Span s : traces.getSpansList()) {
      byTrace.computeIfAbsent(s.getTraceId(), k -> new ArrayList<>()).add(s);
      if (ROUND_SPAN.equals(s.getMessage()) && s.getParentSpanId().isEmpty()) {
        roots.add(s);
      }
    }
    roots.sort(Comparator.comparingLong(Span::getStartUnixNanos).reversed());
    List<Map<String, Object>> out = new ArrayList<>();
    for (Span root : roots.subList(0, Math.min(limit, roots.size()))) {
      out.add(row(root, byTrace.getOrDefault(root.getTraceId(), List.of())));
    }
    return out;
  }

  private static Map<String, Object> row(Span root, List<Span> trace) {
    Map<String, String> tags = root.getTagsMap();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("roundId", tags.getOrDefault("round_id", root.getTraceId()));
    m.put("group", root.getGroup());
    m.put("shard", root.getShard());
    String nodes = tags.getOrDefault("nodes", "");
    m.put("nodes", nodes.isEmpty() ? List.of() : List.of(nodes.split(",")));
    m.put("origin", root.getNodeId());
    m.put("trigger", tags.getOrDefault("trigger", ""));
    m.put("startedAtMs", root.getStartUnixNanos() / 1_000_000);
    m.put("endedAtMs", root.getEndUnixNanos() / 1_000_000);
    m.put("durationMs", Math.max(0, root.getEndUnixNanos() - root.getStartUnixNanos()) / 1_000_000);
    String status = tags.getOrDefault("outcome", root.getError() ? "FAILED" : "COMPLETED");
    m.put("status", status);
    m.put("outcome", !root.getError() && "COMPLETED".equals(status) ? "ok" : "failed");
    m.put("message", root.getErrorReason());
    int hops = 0;
    long bytes = 0;
    long repaired = 0;
    for (Span s : trace) {
      Map<String, String> t = s.getTagsMap();
      if (!"start_sync".equals(t.get("operate_type")) || s.getError()) {
        continue;
      }
      hops++;
      bytes += number(t, "bytes_sent") + number(t, "bytes_received");
      repaired += number(t, "repaired_to_server") + number(t, "repaired_to_client");
    }
    m.put("hops", hops);
    m.put("bytes", bytes);
    m.put("repaired", repaired);
    return m;
  }

  private static long number(Map<String, String> tags, String name) {
    try {
      return Long.parseLong(tags.getOrDefault(name, "0"));
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
