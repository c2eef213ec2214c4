package dev.arbor.liaison;

/**
 * Bounds of a liaison's fan-out to the data nodes.
 *
 * @param threads calls to data nodes made at once ({@code --replica-call-threads})
 * @param queue calls waiting for a thread beyond those ({@code --replica-call-queue}); a request
 *     whose calls do not all fit is refused RESOURCE_EXHAUSTED before any is sent
 */
public record ReplicaCallLimits(int threads, int queue) {
  public static final int DEFAULT_THREADS = 256;
  public static final int DEFAULT_QUEUE = 4096;
  public static final ReplicaCallLimits DEFAULTS = new ReplicaCallLimits(DEFAULT_THREADS, DEFAULT_QUEUE);

  public ReplicaCallLimits {
    if (threads < 1) {
      throw new IllegalArgumentException("--replica-call-threads must be >= 1, got " + threads);
    }
    if (queue < 0) {
      throw new IllegalArgumentException("--replica-call-queue must be >= 0, got " + queue);
    }
    if ((long) threads + queue > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("--replica-call-threads plus --replica-call-queue is too large");
    }
  }

  /** Calls admitted at once, running or waiting. */
  int capacity() {
    return threads + queue;
  }
}
