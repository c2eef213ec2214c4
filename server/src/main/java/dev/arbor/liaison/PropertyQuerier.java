package dev.arbor.liaison;

import dev.arbor.api.banyandb.common.v1.Span;
import dev.arbor.api.banyandb.common.v1.Trace;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.banyandb.property.v1.QueryResponse;
import dev.arbor.property.PropertyRecord;
import dev.arbor.query.QueryPlanner;
import dev.arbor.query.QuerySpans;
import dev.arbor.storage.ShardSearchStats;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Query (spec §2.3): live properties of the given groups, filtered by name, ids (OR-ed) and
 * criteria, ordered by a tag when {@code order_by} names one (otherwise by entity key), limited
 * ({@code 0} means 100) and projected. Tombstones never appear.
 */
final class PropertyQuerier {
  private final QueryPlanner planner;
  private final RequestLimits limits;

  PropertyQuerier(QueryPlanner planner, RequestLimits limits) {
    this.planner = planner;
    this.limits = limits;
  }

  QueryResponse query(QueryRequest req) {
    QuerySpans spans = req.getTrace() ? QuerySpans.start() : null;
    QueryResults.checkLimits(req, limits);
    ShardSearchStats stats = spans == null ? null : new ShardSearchStats();
    List<PropertyRecord> hits = planner.search(req, QueryPlanner.ShardFilter.ALL, stats);
    QueryResponse.Builder out = QueryResponse.newBuilder();
    Set<String> projection = new HashSet<>(req.getTagProjectionList());
    for (PropertyRecord r : hits) {
      out.addProperties(QueryResults.project(QueryResults.decode(r), projection));
    }
    if (spans != null) {
      // One node holds every shard: the root span nests its shard searches directly.
      Span.Builder root = spans.span("query: " + out.getPropertiesCount() + " result(s)", spans.startNanos(),
          System.nanoTime());
      QuerySpans.tag(root, "role", "standalone");
      QuerySpans.tag(root, "groups", String.join(",", req.getGroupsList()));
      QuerySpans.tag(root, "shards", stats.shards().size());
      QuerySpans.tag(root, "results", out.getPropertiesCount());
      root.addAllChildren(spans.shardSpans(stats));
      out.setTrace(Trace.newBuilder().setTraceId(QuerySpans.newTraceId()).addSpans(root));
    }
    return out.build();
  }
}
