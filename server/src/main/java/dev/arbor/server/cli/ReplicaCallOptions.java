package dev.arbor.server.cli;

import dev.arbor.liaison.ReplicaCallLimits;
import picocli.CommandLine.Option;

/** Bounds of a liaison's calls to the data nodes (liaison, dev-cluster). */
final class ReplicaCallOptions {
  @Option(names = "--replica-call-threads", defaultValue = "" + ReplicaCallLimits.DEFAULT_THREADS,
      description = "Calls to data nodes a liaison makes at once (default: ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--replica-call-queue", defaultValue = "" + ReplicaCallLimits.DEFAULT_QUEUE,
      description = "Calls to data nodes that may wait for one of those threads; a request whose calls do not fit is"
          + " answered RESOURCE_EXHAUSTED before any is sent, and a queued call whose --node-timeout passed is not"
          + " sent (default: ${DEFAULT-VALUE}).")
  int queue;

  ReplicaCallLimits limits() {
    return new ReplicaCallLimits(threads, queue);
  }
}
