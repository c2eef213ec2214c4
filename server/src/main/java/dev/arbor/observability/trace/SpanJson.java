package dev.arbor.observability.trace;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.arbor.api.repair.v1.Span;
import dev.arbor.api.repair.v1.TracesResponse;
import java.time.Instant;
import java.util.TreeMap;

/**
 * Renders a traces answer for the HTTP endpoint: {@code {"spans": [...], "unreachable_nodes":
 * [...]}} with snake_case fields, times both as ISO-8601 (to read) and epoch nanoseconds (to
 * compute with), so {@code curl | jq} needs no protobuf knowledge.
 */
final class SpanJson {
  private final ObjectMapper mapper = new ObjectMapper();

  String render(TracesResponse response) {
    ObjectNode root = mapper.createObjectNode();
    ArrayNode spans = root.putArray("spans");
    for (Span s : response.getSpansList()) {
      spans.add(span(s));
    }
    ArrayNode unreachable = root.putArray("unreachable_nodes");
    response.getUnreachableNodesList().forEach(unreachable::add);
    try {
      return mapper.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render traces as JSON", e);
    }
  }

  private ObjectNode span(Span s) {
    ObjectNode o = mapper.createObjectNode();
    o.put("trace_id", s.getTraceId());
    o.put("span_id", s.getSpanId());
    o.put("parent_span_id", s.getParentSpanId());
    o.put("node_id", s.getNodeId());
    o.put("message", s.getMessage());
    o.put("start", iso(s.getStartUnixNanos()));
    o.put("start_unix_nanos", s.getStartUnixNanos());
    o.put("end", iso(s.getEndUnixNanos()));
    o.put("end_unix_nanos", s.getEndUnixNanos());
    o.put("duration_ms", (s.getEndUnixNanos() - s.getStartUnixNanos()) / 1e6);
    o.put("error", s.getError());
    o.put("error_reason", s.getErrorReason());
    o.put("sequence", s.getSequenceNumber());
    o.put("group", s.getGroup());
    o.put("shard", s.getShard());
    ObjectNode tags = o.putObject("tags");
    // Sorted, so the same span always renders the same way.
    new TreeMap<>(s.getTagsMap()).forEach(tags::put);
    return o;
  }

  private static String iso(long epochNanos) {
    return Instant.ofEpochSecond(0, epochNanos).toString();
  }
}
