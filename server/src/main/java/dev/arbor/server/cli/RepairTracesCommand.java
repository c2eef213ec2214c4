package dev.arbor.server.cli;

import dev.arbor.api.repair.v1.Span;
import dev.arbor.api.repair.v1.TracesRequest;
import dev.arbor.api.repair.v1.TracesResponse;
import dev.arbor.observability.trace.TraceQuery;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code arbor repair traces}: the spans of recent repair rounds, gathered from every data node
 * by the target and printed as one block per trace (or as JSON).
 */
@Command(
    name = "traces",
    mixinStandardHelpOptions = true,
    description = {
      "Print the spans of recent repair rounds from every data node: one block per trace (a round),",
      "its spans in start order with the offset from the trace start. Nodes that do not answer",
      "are named on stderr; their spans are missing from the output."
    })
public final class RepairTracesCommand implements Callable<Integer> {
  @Mixin ClientOptions client;

  @Option(names = "--group", description = "Only spans of this group.")
  String group;

  @Option(
      names = "--since",
      paramLabel = "DURATION",
      defaultValue = "1h",
      converter = DurationConverter.class,
      description = "Only spans that started within this long, e.g. 30m, 6h, 3d. Default: ${DEFAULT-VALUE}.")
  Duration since;

  @Option(names = "--trace", paramLabel = "ID", description = "Only this trace.")
  String traceId;

  @Option(
      names = "--limit",
      paramLabel = "N",
      description = "At most N spans (the earliest). Default: the server's ("
          + TraceQuery.DEFAULT_LIMIT + ").")
  Integer limit;

  @Option(names = "--json", description = "Print the answer as JSON (protobuf mapping) instead of a table.")
  boolean json;

  @Override
  public Integer call() {
    CommandLine cl = client.mixee.commandLine();
    if (since.isZero() || since.isNegative()) {
      throw new CommandLine.ParameterException(cl, "--since must be positive");
    }
    if (limit != null && (limit < 1 || limit > TraceQuery.MAX_LIMIT)) {
      throw new CommandLine.ParameterException(cl, "--limit must be in [1, " + TraceQuery.MAX_LIMIT + "]");
    }
    Instant from = Instant.now().minus(since);
    TracesRequest.Builder req = TracesRequest.newBuilder()
        .setSinceUnixMs(Math.max(0, from.toEpochMilli()))
        .setClusterWide(true);
    if (group != null) {
      req.setGroup(group);
    }
    if (traceId != null) {
      req.setTraceId(traceId);
    }
    if (limit != null) {
      req.setLimit(limit);
    }
    TracesResponse resp;
    try (ApiChannel api = client.connect()) {
      resp = api.call(() -> api.repairAdmin().traces(req.build()));
    }
    if (json) {
      // With defaults, so "spans" and "unreachableNodes" are always there for scripts.
      client.output().printWithDefaults(resp);
    } else {
      new TraceTable(cl.getOut()).print(resp, from);
    }
    warnings(cl.getErr(), resp);
    return 0;
  }

  private void warnings(PrintWriter err, TracesResponse resp) {
    if (resp.getUnreachableNodesCount() > 0) {
      err.println("warning: no answer from data node(s) " + String.join(", ", resp.getUnreachableNodesList())
          + "; their spans are missing");
    }
    int effectiveLimit = limit != null ? limit : TraceQuery.DEFAULT_LIMIT;
    if (resp.getSpansCount() >= effectiveLimit) {
      err.println("warning: only the first " + effectiveLimit
          + " spans are shown; raise --limit or narrow --since, --group or --trace");
    }
    err.flush();
  }

  /** The readable form: a header line per trace, then one indented line per span. */
  static final class TraceTable {
    /** Tags already shown in the header (group/shard), so not repeated per span. */
    private static final Set<String> HEADER_TAGS = Set.of("group_name", "shard_id");

    private final PrintWriter out;

    TraceTable(PrintWriter out) {
      this.out = out;
    }

    void print(TracesResponse resp, Instant from) {
      if (resp.getSpansCount() == 0) {
        out.println("no repair spans since " + from);
        out.flush();
        return;
      }
      // Spans arrive in start order, so traces come out ordered by their first span.
      Map<String, List<Span>> traces = new LinkedHashMap<>();
      for (Span s : resp.getSpansList()) {
        traces.computeIfAbsent(s.getTraceId(), k -> new ArrayList<>()).add(s);
      }
      boolean first = true;
      for (Map.Entry<String, List<Span>> t : traces.entrySet()) {
        if (!first) {
          out.println();
        }
        first = false;
        printTrace(t.getKey(), t.getValue());
      }
      out.flush();
    }

    private void printTrace(String traceId, List<Span> spans) {
      long start = spans.get(0).getStartUnixNanos();
      long end = spans.stream().mapToLong(Span::getEndUnixNanos).max().orElse(start);
      Set<String> nodes = new LinkedHashSet<>();
      spans.forEach(s -> nodes.add(s.getNodeId()));
      boolean error = spans.stream().anyMatch(Span::getError);
      Span root = spans.get(0);
      out.printf("trace %s  %s/%d  %s  %s  nodes %s  error: %s%n",
          traceId, root.getGroup(), root.getShard(), Instant.ofEpochSecond(0, start),
          millis(end - start), String.join(", ", nodes), error ? "yes" : "no");
      int nodeWidth = nodes.stream().mapToInt(String::length).max().orElse(1);
      for (Span s : spans) {
        StringBuilder line = new StringBuilder();
        line.append(String.format(Locale.ROOT, "  %12s %12s  %-" + nodeWidth + "s  %s",
            "+" + millis(s.getStartUnixNanos() - start), millis(s.getEndUnixNanos() - s.getStartUnixNanos()),
            s.getNodeId(), s.getMessage()));
        if (s.getError()) {
          line.append("  ERROR ").append(s.getErrorReason().isEmpty() ? "(no reason)" : s.getErrorReason());
        }
        String tags = tags(s);
        if (!tags.isEmpty()) {
          line.append("  ").append(tags);
        }
        out.println(line);
      }
    }

    private static String tags(Span s) {
      StringJoiner j = new StringJoiner(" ");
      new TreeMap<>(s.getTagsMap()).forEach((k, v) -> {
        if (!HEADER_TAGS.contains(k)) {
          j.add(k + "=" + v);
        }
      });
      return j.toString();
    }

    private static String millis(long nanos) {
      return String.format(Locale.ROOT, "%.3f ms", nanos / 1e6);
    }
  }
}
