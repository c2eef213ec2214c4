package dev.arbor.observability.trace;

/** Where finished spans go. Must not block the caller for I/O and must never throw. */
public interface SpanRecorder {
  /** Records nothing (tracing disabled). */
  SpanRecorder NONE = span -> {};

  void record(RepairSpan span);
}
