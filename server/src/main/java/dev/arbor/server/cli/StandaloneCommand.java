package dev.arbor.server.cli;

import dev.arbor.liaison.RequestLimits;
import dev.arbor.server.ServerConfig;
import dev.arbor.server.StandaloneServer;
import dev.arbor.server.TreeConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/**
 * {@code arbor standalone}: liaison and data roles in one process with embedded metadata. Runs
 * until SIGTERM or Ctrl-C, then shuts down gracefully (drains calls, checkpoints) and exits 0.
 */
@Command(
    name = "standalone",
    mixinStandardHelpOptions = true,
    description = "Run Arbor standalone: the public API and storage in one process, embedded metadata.")
public final class StandaloneCommand implements Callable<Integer> {
  @Option(names = "--data-dir", defaultValue = "./data", description = "Data directory (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--grpc-host", defaultValue = "0.0.0.0", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--grpc-port", defaultValue = "17912", description = "Public gRPC port (default: ${DEFAULT-VALUE}).")
  int grpcPort;

  @Option(names = "--http-port", defaultValue = "17913", description = "HTTP port for /health and /metrics (default: ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--max-property-bytes", defaultValue = "1048576", description = "Largest encoded property accepted (default: ${DEFAULT-VALUE}).")
  int maxPropertyBytes;

  @Option(names = "--max-tags-per-property", defaultValue = "256", description = "Most tags in a property or schema (default: ${DEFAULT-VALUE}).")
  int maxTags;

  @Option(names = "--max-ids-per-query", defaultValue = "1000", description = "Most ids in one query (default: ${DEFAULT-VALUE}).")
  int maxIds;

  @Option(names = "--max-query-limit", defaultValue = "10000", description = "Largest query limit (default: ${DEFAULT-VALUE}).")
  int maxQueryLimit;

  @Option(names = "--tombstone-grace", defaultValue = "7d", converter = DurationConverter.class,
      description = "How long deleted properties are kept (as tombstones, for repair) before purge (default: ${DEFAULT-VALUE}).")
  Duration tombstoneGrace;

  @Option(names = "--checkpoint-interval", defaultValue = "30s", converter = DurationConverter.class,
      description = "How often indexes are committed and the write-ahead log truncated (default: ${DEFAULT-VALUE}).")
  Duration checkpointInterval;

  @Option(names = "--checkpoint-wal-size", defaultValue = "256",
      description = "Also checkpoint once this many MiB of write-ahead log were written since the last one, bounding replay after a crash (default: ${DEFAULT-VALUE}).")
  long checkpointWalMiB;

  @Option(names = "--tree-slots", defaultValue = "32",
      description = "Slots per repair tree; must be equal on every node (default: ${DEFAULT-VALUE}).")
  int treeSlots;

  @Option(names = "--tree-build-schedule", defaultValue = "0 * * * *",
      description = "When repair trees are rebuilt: 5-field cron, @hourly, @daily or '@every 30s' (default: '${DEFAULT-VALUE}', hourly).")
  String treeSchedule;

  @Option(names = "--tree-quick-build-delay", defaultValue = "10m", converter = DurationConverter.class,
      description = "Delay of the quick tree build after the first write since the last one (default: ${DEFAULT-VALUE}).")
  Duration treeQuickDelay;

  @Option(names = "--tree-build-threads", defaultValue = "1",
      description = "Concurrent tree builds (default: ${DEFAULT-VALUE}).")
  int treeThreads;

  @Override
  public Integer call() throws Exception {
    if (treeSlots <= 0 || treeSlots > 65536) {
      throw new IllegalArgumentException("--tree-slots must be between 1 and 65536");
    }
    if (checkpointWalMiB <= 0) {
      throw new IllegalArgumentException("--checkpoint-wal-size must be > 0");
    }
    if (treeThreads <= 0) {
      throw new IllegalArgumentException("--tree-build-threads must be > 0");
    }
    dev.arbor.repair.tree.BuildSchedule.parse(treeSchedule);
    for (int v : new int[] {maxPropertyBytes, maxTags, maxIds, maxQueryLimit}) {
      if (v <= 0) {
        throw new IllegalArgumentException("limits must be positive");
      }
    }
    ServerConfig config =
        new ServerConfig(dataDir, host, grpcPort, httpPort,
            new RequestLimits(maxPropertyBytes, maxTags, maxIds, maxQueryLimit),
            tombstoneGrace, checkpointInterval,
            new TreeConfig(treeSlots, treeSchedule, treeQuickDelay, treeThreads),
            checkpointWalMiB << 20);
    CountDownLatch stop = new CountDownLatch(1);
    Signal.handle(new Signal("TERM"), s -> stop.countDown());
    Signal.handle(new Signal("INT"), s -> stop.countDown());
    try (StandaloneServer server = StandaloneServer.start(config)) {
      System.out.printf(
          "Arbor standalone serving gRPC on %s:%d, HTTP on %s:%d, data in %s%n",
          host, server.grpcPort(), host, server.httpPort(), dataDir.toAbsolutePath());
      System.out.flush();
      stop.await();
      System.out.println("Arbor standalone shutting down");
    }
    return 0;
  }
}
