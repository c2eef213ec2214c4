package dev.arbor.observability.trace;

import dev.arbor.runtime.WallClock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Starts spans of one node: ids are {@code <nodeId>_<epochNanos>_<seq>}, unique per node, and
 * ended spans go to the recorder. A span is a small mutable builder owned by one thread.
 */
public final class Tracer {
  private final String nodeId;
  private final SpanRecorder recorder;
  private final AtomicLong seq = new AtomicLong();
  private final WallClock clock;

  /** On the system wall clock (tests); a node passes its runtime's. */
  public Tracer(String nodeId, SpanRecorder recorder) {
    this(nodeId, recorder, WallClock.system());
  }

  /** @param clock stamps span starts and ends (the node runtime's wall clock) */
  public Tracer(String nodeId, SpanRecorder recorder, WallClock clock) {
    this.nodeId = nodeId;
    this.recorder = recorder;
    this.clock = clock;
  }

  public String nodeId() {
    return nodeId;
  }

  /**
   * The system wall clock in epoch nanoseconds, for tests and tools outside a node; node code reads
   * {@link #now()} (its runtime's clock).
   */
  public static long nowNanos() {
    return WallClock.system().nanos();
  }

  /** This tracer's wall clock, epoch nanoseconds. */
  public long now() {
    return clock.nanos();
  }

  /** Starts a span in {@code traceId} under {@code parentSpanId} (empty for a root span). */
  public Span start(String traceId, String parentSpanId, String message, String group, int shard, int sequence) {
    long now = clock.nanos();
    return new Span(traceId, nodeId + "_" + now + "_" + seq.incrementAndGet(), parentSpanId, message, group,
        shard, sequence, now);
  }

  /** An open span; {@link #end()} or {@link #fail(String)} records it once. */
  public final class Span {
    private final String traceId;
    private final String spanId;
    private final String parentSpanId;
    private final String message;
    private final String group;
    private final int shard;
    private final int sequence;
    private final long start;
    private final Map<String, String> tags = new LinkedHashMap<>();
    private boolean ended;

    private Span(String traceId, String spanId, String parentSpanId, String message, String group, int shard,
        int sequence, long start) {
      this.traceId = traceId;
      this.spanId = spanId;
      this.parentSpanId = parentSpanId;
      this.message = message;
      this.group = group;
      this.shard = shard;
      this.sequence = sequence;
      this.start = start;
    }

    public String traceId() {
      return traceId;
    }

    public String spanId() {
      return spanId;
    }

    public Span tag(String key, Object value) {
      tags.put(key, String.valueOf(value));
      return this;
    }

    public void end() {
      finish(false, "");
    }

    public void fail(String reason) {
      finish(true, reason);
    }

    private void finish(boolean error, String reason) {
      if (ended) {
        return;
      }
      ended = true;
      recorder.record(new RepairSpan(traceId, spanId, parentSpanId, nodeId, message, start, clock.nanos(), error,
          reason, sequence, group, shard, tags));
    }
  }
}
