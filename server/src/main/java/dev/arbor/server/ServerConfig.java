package dev.arbor.server;

import dev.arbor.datanode.ResponseBudget;
import dev.arbor.liaison.RequestLimits;
import dev.arbor.transport.GrpcServerLimits;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Everything a standalone server or data node needs to start. Port 0 binds an ephemeral port
 * (tests).
 *
 * @param dataDir root of all files Arbor writes (metadata, WAL, Lucene shards)
 * @param grpcHost address the gRPC and HTTP servers bind to
 * @param grpcPort public gRPC port (BanyanDB API), default 17912
 * @param httpPort HTTP port for /health and /metrics, default 17913
 * @param limits request limits enforced at the edge
 * @param tombstoneGrace how long deleted properties are kept at least before purge (replicated
 *     shards also wait for a covering repair round)
 * @param checkpointInterval how often indexes are committed and the WAL truncated
 * @param trees repair-tree settings
 * @param checkpointWalBytes a checkpoint also runs once this much WAL has been written since the last
 * @param repair background repair settings (data nodes)
 * @param serverLimits the gRPC server's concurrency caps, keepalive and connection age
 * @param maxDiskUsagePercent writes are refused while the data directory's file system is fuller
 * @param quarantineRetention how long group data set aside in {@code quarantine/} is kept before
 *     it is purged (see {@link dev.arbor.storage.Quarantine})
 * @param responseBudget the most property bytes one reply of a data node's internal API carries
 */
public record ServerConfig(
    Path dataDir,
    String grpcHost,
    int grpcPort,
    int httpPort,
    RequestLimits limits,
    Duration tombstoneGrace,
    Duration checkpointInterval,
    TreeConfig trees,
    long checkpointWalBytes,
    RepairConfig repair,
    GrpcServerLimits serverLimits,
    int maxDiskUsagePercent,
    Duration quarantineRetention,
    ResponseBudget responseBudget) {

  public static final int DEFAULT_GRPC_PORT = 17912;
  public static final int DEFAULT_HTTP_PORT = 17913;
  public static final Duration DEFAULT_TOMBSTONE_GRACE = Duration.ofDays(7);
  public static final Duration DEFAULT_CHECKPOINT_INTERVAL = Duration.ofSeconds(30);
  public static final long DEFAULT_CHECKPOINT_WAL_BYTES = 256L << 20;
  /** Like BanyanDB's default: writes stop before the disk is completely full. */
  public static final int DEFAULT_MAX_DISK_USAGE_PERCENT = 95;
  public static final Duration DEFAULT_QUARANTINE_RETENTION = Duration.ofDays(7);

  /** The settings that predate server limits, the disk guard and quarantine: those get defaults. */
  public ServerConfig(Path dataDir, String grpcHost, int grpcPort, int httpPort, RequestLimits limits,
      Duration tombstoneGrace, Duration checkpointInterval, TreeConfig trees, long checkpointWalBytes,
      RepairConfig repair) {
    this(dataDir, grpcHost, grpcPort, httpPort, limits, tombstoneGrace, checkpointInterval, trees,
        checkpointWalBytes, repair, GrpcServerLimits.DEFAULTS, DEFAULT_MAX_DISK_USAGE_PERCENT,
        DEFAULT_QUARANTINE_RETENTION, ResponseBudget.DEFAULT);
  }

  /** As above, with a quarantine retention. */
  public ServerConfig(Path dataDir, String grpcHost, int grpcPort, int httpPort, RequestLimits limits,
      Duration tombstoneGrace, Duration checkpointInterval, TreeConfig trees, long checkpointWalBytes,
      RepairConfig repair, Duration quarantineRetention) {
    this(dataDir, grpcHost, grpcPort, httpPort, limits, tombstoneGrace, checkpointInterval, trees,
        checkpointWalBytes, repair, GrpcServerLimits.DEFAULTS, DEFAULT_MAX_DISK_USAGE_PERCENT, quarantineRetention,
        ResponseBudget.DEFAULT);
  }

  /** Defaults for everything but the data directory. */
  public static ServerConfig defaults(Path dataDir) {
    return new ServerConfig(
        dataDir, "0.0.0.0", DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT, RequestLimits.DEFAULTS,
        DEFAULT_TOMBSTONE_GRACE, DEFAULT_CHECKPOINT_INTERVAL, TreeConfig.DEFAULTS,
        DEFAULT_CHECKPOINT_WAL_BYTES, RepairConfig.DEFAULTS);
  }

  public ServerConfig withPorts(int grpc, int http) {
    return new ServerConfig(dataDir, grpcHost, grpc, http, limits, tombstoneGrace, checkpointInterval, trees,
        checkpointWalBytes, repair, serverLimits, maxDiskUsagePercent, quarantineRetention, responseBudget);
  }

  public ServerConfig withHost(String host) {
    return new ServerConfig(dataDir, host, grpcPort, httpPort, limits, tombstoneGrace, checkpointInterval, trees,
        checkpointWalBytes, repair, serverLimits, maxDiskUsagePercent, quarantineRetention, responseBudget);
  }

  public ServerConfig withLimits(RequestLimits l) {
    return new ServerConfig(dataDir, grpcHost, grpcPort, httpPort, l, tombstoneGrace, checkpointInterval, trees,
        checkpointWalBytes, repair, serverLimits, maxDiskUsagePercent, quarantineRetention, responseBudget);
  }

  public ServerConfig withTombstoneGrace(Duration grace) {
    return new ServerConfig(dataDir, grpcHost, grpcPort, httpPort, limits, grace, checkpointInterval, trees,
        checkpointWalBytes, repair, serverLimits, maxDiskUsagePercent, quarantineRetention, responseBudget);
  }

  public ServerConfig withCheckpointInterval(Duration interval) {
    return new ServerConfig(dataDir, grpcHost, grpcPort, httpPort, limits, tombstoneGrace, interval, trees,
        checkpointWalBytes, repair, serverLimits, maxDiskUsagePercent, quarantineRetention, responseBudget);
  }

  public ServerConfig withRepair(RepairConfig r) {
    return new ServerConfig(dataDir, grpcHost, grpcPort, httpPort, limits, tombstoneGrace, checkpointInterval, trees,
        checkpointWalBytes, r, serverLimits, maxDiskUsagePercent, quarantineRetention, responseBudget);
  }

  public ServerConfig withServerLimits(GrpcServerLimits l) {
    return new ServerConfig(dataDir, grpcHost, grpcPort, httpPort, limits, tombstoneGrace, checkpointInterval, trees,
        checkpointWalBytes, repair, l, maxDiskUsagePercent, quarantineRetention, responseBudget);
  }

  public ServerConfig withMaxDiskUsagePercent(int percent) {
    return new ServerConfig(dataDir, grpcHost, grpcPort, httpPort, limits, tombstoneGrace, checkpointInterval, trees,
        checkpointWalBytes, repair, serverLimits, percent, quarantineRetention, responseBudget);
  }

  public ServerConfig withQuarantineRetention(Duration retention) {
    return new ServerConfig(dataDir, grpcHost, grpcPort, httpPort, limits, tombstoneGrace, checkpointInterval, trees,
        checkpointWalBytes, repair, serverLimits, maxDiskUsagePercent, retention, responseBudget);
  }

  public ServerConfig withTrees(TreeConfig t) {
    return new ServerConfig(dataDir, grpcHost, grpcPort, httpPort, limits, tombstoneGrace, checkpointInterval, t,
        checkpointWalBytes, repair, serverLimits, maxDiskUsagePercent, quarantineRetention, responseBudget);
  }

  public ServerConfig withDataDir(Path dir) {
    return new ServerConfig(dir, grpcHost, grpcPort, httpPort, limits, tombstoneGrace, checkpointInterval, trees,
        checkpointWalBytes, repair, serverLimits, maxDiskUsagePercent, quarantineRetention, responseBudget);
  }

  public ServerConfig withResponseBudget(ResponseBudget budget) {
    return new ServerConfig(dataDir, grpcHost, grpcPort, httpPort, limits, tombstoneGrace, checkpointInterval, trees,
        checkpointWalBytes, repair, serverLimits, maxDiskUsagePercent, quarantineRetention, budget);
  }
}
