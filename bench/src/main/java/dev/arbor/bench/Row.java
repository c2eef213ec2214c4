package dev.arbor.bench;

import org.HdrHistogram.Histogram;

/** One measured scenario: a name, a client count, and its window (or why it failed). */
final class Row {
  final String name;
  final int clients;
  ClosedLoop.Window window;
  String failure;

  Row(String name, int clients) {
    this.name = name;
    this.clients = clients;
  }

  boolean ok() {
    return window != null && failure == null && window.ops() > 0;
  }

  /** Latency at a percentile, in nanoseconds; -1 when not measured. */
  long percentileNanos(double p) {
    if (window == null || window.ops() == 0) {
      return -1;
    }
    return window.latencies().getValueAtPercentile(p);
  }

  String summary() {
    if (failure != null) {
      return "FAILED: " + failure;
    }
    Histogram h = window.latencies();
    return String.format("%,.0f ops/s, p50 %s ms, p99 %s ms, p99.9 %s ms, max %s ms, "
            + "errors %d, misses %d, server CPU %s cores, client CPU %s cores, other CPU %s cores%s",
        window.opsPerSecond(), ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(99)),
        ms(h.getValueAtPercentile(99.9)), ms(h.getMaxValue()), window.errors(), window.misses(),
        cores(window.cpu().serverCores()), cores(window.cpu().clientCores()),
        cores(window.cpu().otherCores()),
        window.firstError() == null || window.errors() == 0 ? ""
            : " (first error: " + window.firstError() + ")");
  }

  static String ms(long nanos) {
    if (nanos < 0) {
      return "–";
    }
    double ms = nanos / 1e6;
    if (ms < 1) {
      return String.format("%.3f", ms);
    }
    if (ms < 10) {
      return String.format("%.2f", ms);
    }
    return String.format("%.1f", ms);
  }

  static String cores(double cores) {
    return cores < 0 ? "–" : String.format("%.2f", cores);
  }
}
