package dev.arbor.observability.trace;

import java.util.List;

/**
 * Where a node reads its own spans. A node that keeps no spans (a liaison) answers with
 * {@link #NONE}, so {@link TraceQuery} can still gather the data nodes' spans there.
 */
public interface SpanSource {
  /** Keeps no spans. */
  SpanSource NONE = q -> List.of();

  /** Matching spans, sorted by start time ascending. */
  List<RepairSpan> query(SpanQuery q);
}
