package dev.arbor.liaison;

import dev.arbor.cluster.InternalApiLimits;
import java.time.Duration;

/**
 * Bounds of a liaison's fan-out to the data nodes.
 *
 * @param threads calls to data nodes made at once ({@code --replica-call-threads})
 * @param queue calls waiting for a thread beyond those ({@code --replica-call-queue}); a request
 *     whose calls do not all fit is refused RESOURCE_EXHAUSTED before any is sent. A write or read
 *     waiting in a data node's batch counts here too, so batching adds no queue of its own.
 * @param batchRecords most records (or keys) one batched Write (or Read) to a data node carries
 *     ({@code --replica-batch-records})
 * @param batchBytes most bytes of records (or keys) one batched call carries
 *     ({@code --replica-batch-bytes}); one caller's larger share still goes, alone
 * @param batchLinger how long a batch that is not full waits for more callers before it is sent
 *     ({@code --replica-batch-linger}); 0 sends at once, and callers still share a call whenever
 *     they arrive while the previous one to that node is in flight
 */
public record ReplicaCallLimits(int threads, int queue, int batchRecords, int batchBytes, Duration batchLinger) {
  public static final int DEFAULT_THREADS = 256;
  public static final int DEFAULT_QUEUE = 4096;
  public static final int DEFAULT_BATCH_RECORDS = 512;
  public static final int DEFAULT_BATCH_BYTES = 4 << 20;
  public static final Duration DEFAULT_BATCH_LINGER = Duration.ZERO;
  /** Well below what a data node accepts in one message, leaving room for the envelope. */
  public static final int MAX_BATCH_BYTES = InternalApiLimits.MAX_MESSAGE_BYTES / 2;
  public static final Duration MAX_BATCH_LINGER = Duration.ofSeconds(1);
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
    if (batchRecords < 1 || batchRecords > InternalApiLimits.MAX_READ_KEYS) {
      throw new IllegalArgumentException("--replica-batch-records must be between 1 and "
          + InternalApiLimits.MAX_READ_KEYS + ", got " + batchRecords);
    }
    if (batchBytes < 1 || batchBytes > MAX_BATCH_BYTES) {
      throw new IllegalArgumentException("--replica-batch-bytes must be between 1 and " + MAX_BATCH_BYTES
          + ", got " + batchBytes);
    }
    if (batchLinger.isNegative() || batchLinger.compareTo(MAX_BATCH_LINGER) > 0) {
      throw new IllegalArgumentException("--replica-batch-linger must be between 0 and "
          + MAX_BATCH_LINGER.toMillis() + " ms, got " + batchLinger.toMillis() + " ms");
    }
  }

  /** With the default batching. */
  public ReplicaCallLimits(int threads, int queue) {
    this(threads, queue, DEFAULT_BATCH_RECORDS, DEFAULT_BATCH_BYTES, DEFAULT_BATCH_LINGER);
  }

  /** Calls admitted at once, running or waiting. */
  int capacity() {
    return threads + queue;
  }
}
