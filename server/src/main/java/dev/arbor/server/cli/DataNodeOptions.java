package dev.arbor.server.cli;

import dev.arbor.datanode.ResponseBudget;
import picocli.CommandLine.Option;

/** Settings of a data node's internal API (data, dev-cluster). */
final class DataNodeOptions {
  @Option(names = "--max-response-bytes", defaultValue = "" + ResponseBudget.DEFAULT_MAX_BYTES,
      description = "Most property bytes in one reply to a liaison's query or read, at most " + ResponseBudget.CEILING
          + "; a larger result is sent in pages, one property larger than this alone (default: ${DEFAULT-VALUE}).")
  int maxResponseBytes;

  ResponseBudget budget() {
    return new ResponseBudget(maxResponseBytes);
  }
}
