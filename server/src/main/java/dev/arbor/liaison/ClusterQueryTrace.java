package dev.arbor.liaison;

import dev.arbor.api.banyandb.common.v1.Span;
import dev.arbor.api.banyandb.common.v1.Trace;
import dev.arbor.cluster.DataNode;
import dev.arbor.query.QuerySpans;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The trace of one query on a cluster: a root span for the query, under it one span per data node
 * called (per round, when the liaison asks again for more rows) holding the spans the node sent
 * back (its QueryShards work, with one child per shard searched), and one span per confirming read.
 * Only the query's own thread adds to it.
 */
final class ClusterQueryTrace {
  private final QuerySpans spans = QuerySpans.start();
  private final List<Span> children = new ArrayList<>();
  private int rounds;
  private int confirmReads;
  private int repairsQueued;

  /** Starts a round of node calls; returns its number (1 for the first). */
  int nextRound() {
    return ++rounds;
  }

  /** A data node called: its answer (null on failure) and the spans it sent. */
  void nodeCall(DataNode node, int round, Map<String, List<Integer>> shards, long startNanos, long endNanos,
      int properties, List<Span> nodeSpans, RuntimeException failure) {
    Span.Builder b = spans.span("data node " + node.id(), startNanos, endNanos);
    QuerySpans.tag(b, "node_id", node.id());
    QuerySpans.tag(b, "address", node.grpcAddress());
    QuerySpans.tag(b, "shards", describe(shards));
    QuerySpans.tag(b, "round", round);
    if (failure != null) {
      b.setError(true);
      QuerySpans.tag(b, "error", failure.getMessage());
    } else {
      QuerySpans.tag(b, "properties", properties);
      QuerySpans.tag(b, "pages", nodeSpans.size());
    }
    children.add(b.addAllChildren(nodeSpans).build());
  }

  /** A confirming read of some candidates from every replica of their shard, and the repairs it queued. */
  void confirm(String group, int shard, List<DataNode> replicas, int keys, long startNanos, long endNanos,
      int answered, int repairs) {
    confirmReads++;
    repairsQueued += repairs;
    Span.Builder b = spans.span("confirm read " + group + "/" + shard, startNanos, endNanos);
    QuerySpans.tag(b, "group", group);
    QuerySpans.tag(b, "shard", shard);
    QuerySpans.tag(b, "keys", keys);
    QuerySpans.tag(b, "replicas", String.join(",", replicas.stream().map(n -> n.id().toString()).toList()));
    QuerySpans.tag(b, "answered", answered);
    QuerySpans.tag(b, "read_repairs_queued", repairs);
    children.add(b.build());
  }

  /** The finished trace, the root span ending now. */
  Trace finish(int nodes, int candidates, int results) {
    Span.Builder root = spans.span("query: " + results + " result(s)", spans.startNanos(), System.nanoTime());
    QuerySpans.tag(root, "role", "liaison");
    QuerySpans.tag(root, "nodes", nodes);
    QuerySpans.tag(root, "rounds", rounds);
    QuerySpans.tag(root, "candidates", candidates);
    QuerySpans.tag(root, "results", results);
    QuerySpans.tag(root, "confirm_read", confirmReads > 0);
    QuerySpans.tag(root, "read_repairs_queued", repairsQueued);
    return Trace.newBuilder().setTraceId(QuerySpans.newTraceId()).addSpans(root.addAllChildren(children)).build();
  }

  private static String describe(Map<String, List<Integer>> shards) {
    List<String> parts = new ArrayList<>();
    new TreeMap<>(shards).forEach((g, list) -> list.forEach(s -> parts.add(g + "/" + s)));
    return String.join(",", parts);
  }
}
