package dev.arbor.liaison;

import dev.arbor.api.banyandb.common.v1.Span;
import dev.arbor.api.banyandb.common.v1.Trace;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.banyandb.property.v1.QueryResponse;
import dev.arbor.property.PropertyRecord;
import dev.arbor.query.QueryPlanner;
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
    long start = System.nanoTime();
    QueryResults.checkLimits(req, limits);
    List<PropertyRecord> hits = planner.search(req, QueryPlanner.ShardFilter.ALL);
    QueryResponse.Builder out = QueryResponse.newBuilder();
    Set<String> projection = new HashSet<>(req.getTagProjectionList());
    for (PropertyRecord r : hits) {
      out.addProperties(QueryResults.project(QueryResults.decode(r), projection));
    }
    if (req.getTrace()) {
      long end = System.nanoTime();
      out.setTrace(
          Trace.newBuilder()
              .setTraceId(Long.toHexString(start))
              .addSpans(
                  Span.newBuilder()
                      .setMessage("query: " + hits.size() + " result(s)")
                      .setDuration(end - start)));
    }
    return out.build();
  }
}
