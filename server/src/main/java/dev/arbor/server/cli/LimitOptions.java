package dev.arbor.server.cli;

import dev.arbor.liaison.RequestLimits;
import dev.arbor.query.QueryLimit;
import picocli.CommandLine.Option;

/** Limits of the public API (standalone and liaison). */
final class LimitOptions {
  @Option(names = "--max-property-bytes", defaultValue = "1048576", description = "Largest encoded property accepted (default: ${DEFAULT-VALUE}).")
  int maxPropertyBytes;

  @Option(names = "--max-tags-per-property", defaultValue = "256", description = "Most tags in a property or schema (default: ${DEFAULT-VALUE}).")
  int maxTags;

  @Option(names = "--max-ids-per-query", defaultValue = "1000", description = "Most ids in one query (default: ${DEFAULT-VALUE}).")
  int maxIds;

  @Option(names = "--max-query-limit", defaultValue = "10000", description = "Largest query limit, at most "
      + QueryLimit.HARD_MAX + " (what a data node returns at most) (default: ${DEFAULT-VALUE}).")
  int maxQueryLimit;

  RequestLimits limits() {
    for (int v : new int[] {maxPropertyBytes, maxTags, maxIds, maxQueryLimit}) {
      if (v <= 0) {
        throw new IllegalArgumentException("limits must be positive");
      }
    }
    if (maxQueryLimit > QueryLimit.HARD_MAX) {
      throw new IllegalArgumentException("--max-query-limit must be <= " + QueryLimit.HARD_MAX + ", got " + maxQueryLimit);
    }
    return new RequestLimits(maxPropertyBytes, maxTags, maxIds, maxQueryLimit);
  }
}
