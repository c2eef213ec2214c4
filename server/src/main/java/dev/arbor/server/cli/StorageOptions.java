package dev.arbor.server.cli;

import dev.arbor.liaison.RequestLimits;
import dev.arbor.repair.tree.BuildSchedule;
import dev.arbor.server.ServerConfig;
import dev.arbor.server.TreeConfig;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Storage and repair-tree settings of a node that holds data (standalone, data, dev-cluster). */
final class StorageOptions {
  @Option(names = "--tombstone-grace", defaultValue = "7d", converter = DurationConverter.class,
      description = "How long deleted properties are kept as tombstones, at least (default: ${DEFAULT-VALUE}). Standalone nodes and groups keeping one copy purge them after this; groups keeping 2+ copies only once a repair round that covered every replica of the shard also started after the delete (never with --repair-schedule off unless rounds are run by hand).")
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

  @Option(names = "--tree-scrub-rate", defaultValue = "500000",
      description = "Leaves per second a scrub (the scheduled rebuild of a live repair tree, compared with it) reads at most; 0 = unthrottled. Builds a repair session waits for are never throttled (default: ${DEFAULT-VALUE}).")
  long treeScrubRate;

  @Option(names = "--tree-live-max-overlay", defaultValue = "250000",
      description = "Leaves written since a live repair tree's last build above which it is scrubbed (rebuilt from the index) at once instead of at the next scheduled run; bounds the tree's memory and its journal's size (default: ${DEFAULT-VALUE}).")
  long treeLiveMaxOverlay;

  @Option(names = "--max-disk-usage-percent", defaultValue = "95",
      description = "Refuse writes (client and repair, RESOURCE_EXHAUSTED) while the data directory's file system is fuller than this; 100 turns the check off (default: ${DEFAULT-VALUE}).")
  int maxDiskUsagePercent;

  @Option(names = "--quarantine-retention", defaultValue = "7d", converter = DurationConverter.class,
      description = "How long group data that metadata no longer accounts for (a group missing from etcd, e.g. after a restore from an old backup or a wiped prefix) is kept in <data-dir>/quarantine/ before it is purged; see 'arbor quarantine' (default: ${DEFAULT-VALUE}).")
  Duration quarantineRetention;

  /** The configuration of a node with these settings, checked. */
  ServerConfig config(Path dataDir, String host, int grpcPort, int httpPort, RequestLimits limits) {
    if (treeSlots <= 0 || treeSlots > 65536) {
      throw new IllegalArgumentException("--tree-slots must be between 1 and 65536");
    }
    if (checkpointWalMiB <= 0) {
      throw new IllegalArgumentException("--checkpoint-wal-size must be > 0");
    }
    if (treeThreads <= 0) {
      throw new IllegalArgumentException("--tree-build-threads must be > 0");
    }
    if (maxDiskUsagePercent < 1 || maxDiskUsagePercent > 100) {
      throw new IllegalArgumentException("--max-disk-usage-percent must be between 1 and 100");
    }
    BuildSchedule.parse(treeSchedule);
    if (quarantineRetention.isNegative()) {
      throw new IllegalArgumentException("--quarantine-retention must be >= 0");
    }
    return new ServerConfig(dataDir, host, grpcPort, httpPort, limits, tombstoneGrace, checkpointInterval,
        new TreeConfig(treeSlots, treeSchedule, treeQuickDelay, treeThreads, treeScrubRate, treeLiveMaxOverlay), checkpointWalMiB << 20,
        dev.arbor.server.RepairConfig.DEFAULTS, quarantineRetention).withMaxDiskUsagePercent(maxDiskUsagePercent);
  }
}
