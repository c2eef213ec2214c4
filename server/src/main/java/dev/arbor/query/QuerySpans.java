package dev.arbor.query;

import com.google.protobuf.Timestamp;
import dev.arbor.api.banyandb.common.v1.Span;
import dev.arbor.api.banyandb.common.v1.Tag;
import dev.arbor.storage.ShardSearchStats;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds the spans of a query trace (BanyanDB's {@code common.v1.Span}: start and end time,
 * duration in nanoseconds, tags, children). Durations come from {@link System#nanoTime()}; wall
 * times are derived from one anchor taken when the trace starts, so a span's times and duration
 * agree and children fall within their parent on the same node.
 */
public final class QuerySpans {
  private final long anchorEpochNanos;
  private final long anchorNanoTime;

  private QuerySpans(long anchorEpochNanos, long anchorNanoTime) {
    this.anchorEpochNanos = anchorEpochNanos;
    this.anchorNanoTime = anchorNanoTime;
  }

  /** A trace starting now, on this node's clocks. */
  public static QuerySpans start() {
    Instant now = Instant.now();
    long nano = System.nanoTime();
    return new QuerySpans(now.getEpochSecond() * 1_000_000_000L + now.getNano(), nano);
  }

  /** A random 64-bit trace id in hex: traces of different queries are told apart. */
  public static String newTraceId() {
    return String.format("%016x", java.util.concurrent.ThreadLocalRandom.current().nextLong());
  }

  /** The {@link System#nanoTime()} at which this trace started. */
  public long startNanos() {
    return anchorNanoTime;
  }

  /** A span from {@code startNanos} to {@code endNanos} ({@link System#nanoTime()} values). */
  public Span.Builder span(String message, long startNanos, long endNanos) {
    return Span.newBuilder().setMessage(message).setStartTime(wall(startNanos)).setEndTime(wall(endNanos))
        .setDuration(Math.max(0, endNanos - startNanos));
  }

  /** Adds a tag; the value as text, as the trace message carries it. */
  public static Span.Builder tag(Span.Builder span, String key, Object value) {
    return span.addTags(Tag.newBuilder().setKey(key).setValue(String.valueOf(value)));
  }

  /**
   * One span per shard searched: from its first to its last search, with the time spent searching
   * and loading its records as the duration (rounds interleave with other shards' searches), its
   * group and shard, how many records matched ({@code "1000+"} past Lucene's exact count) and how
   * many it contributed to the result.
   */
  public List<Span> shardSpans(ShardSearchStats stats) {
    List<Span> out = new ArrayList<>();
    for (ShardSearchStats.Shard s : stats.shards()) {
      Span.Builder b = span("shard search " + s.group() + "/" + s.shard(), s.firstStartNanos(), s.lastEndNanos())
          .setDuration(s.busyNanos());
      tag(b, "group", s.group());
      tag(b, "shard", s.shard());
      tag(b, "matched", s.matched() + (s.matchedAtLeast() ? "+" : ""));
      tag(b, "hits", s.returned());
      tag(b, "rounds", s.rounds());
      out.add(b.build());
    }
    return out;
  }

  private Timestamp wall(long nanoTime) {
    long epochNanos = anchorEpochNanos + (nanoTime - anchorNanoTime);
    return Timestamp.newBuilder().setSeconds(Math.floorDiv(epochNanos, 1_000_000_000L))
        .setNanos((int) Math.floorMod(epochNanos, 1_000_000_000L)).build();
  }
}
