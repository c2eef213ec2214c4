package dev.arbor.server.cli;

import dev.arbor.liaison.ReplicaCallLimits;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Bounds of a liaison's calls to the data nodes, and their batching (liaison, dev-cluster). */
final class ReplicaCallOptions {
  @Option(names = "--replica-call-threads", defaultValue = "" + ReplicaCallLimits.DEFAULT_THREADS,
      description = "Calls to data nodes a liaison makes at once (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--replica-call-queue", defaultValue = "" + ReplicaCallLimits.DEFAULT_QUEUE,
      description = "Calls to data nodes that may wait for one of those threads or in a data node's batch; a request"
          + " whose calls do not fit is answered RESOURCE_EXHAUSTED before any is sent, and a queued call whose"
          + " --node-timeout passed is not sent (default: ${DEFAULT-VALUE}).")
  int queue;

  @Option(names = "--replica-batch-records", defaultValue = "" + ReplicaCallLimits.DEFAULT_BATCH_RECORDS,
      description = "Most records (or keys) one Write (or Read) to a data node carries: concurrent applies, deletes"
          + " and reads bound for the same node travel together, one WAL frame and fsync there (default:"
          + " ${DEFAULT-VALUE}).")
  int batchRecords;

  @Option(names = "--replica-batch-bytes", defaultValue = "" + ReplicaCallLimits.DEFAULT_BATCH_BYTES,
      description = "Most bytes of records one batched call to a data node carries, at most "
          + ReplicaCallLimits.MAX_BATCH_BYTES + "; one request's larger records still go, alone (default:"
          + " ${DEFAULT-VALUE}).")
  int batchBytes;

  @Option(names = "--replica-batch-linger", defaultValue = "0ms", converter = DurationConverter.class,
      description = "How long a batch that is not full waits for more callers before it is sent, at most 1s; 0 sends"
          + " at once, and callers still share a call when they arrive while the previous one to that node is in"
          + " flight (default: ${DEFAULT-VALUE}).")
  Duration batchLinger;

  ReplicaCallLimits limits() {
    return new ReplicaCallLimits(threads, queue, batchRecords, batchBytes, batchLinger);
  }
}
