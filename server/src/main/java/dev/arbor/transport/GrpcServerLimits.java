package dev.arbor.transport;

import java.time.Duration;

/**
 * Resource caps of a gRPC server.
 *
 * @param maxConcurrentCalls calls being handled at once across all connections; one more is
 *     answered RESOURCE_EXHAUSTED at once instead of queueing without bound
 * @param maxCallsPerConnection streams one connection may have open at once (HTTP/2
 *     MAX_CONCURRENT_STREAMS), so one client cannot take every slot
 * @param keepAliveTime how often an idle connection is pinged; a peer that stopped answering is
 *     noticed after that plus {@link #KEEPALIVE_TIMEOUT}
 * @param maxConnectionAge connections are closed gracefully after this, so load spreads again
 *     after a restart and nothing lives forever
 */
public record GrpcServerLimits(int maxConcurrentCalls, int maxCallsPerConnection, Duration keepAliveTime,
    Duration maxConnectionAge) {
  public static final int DEFAULT_MAX_CONCURRENT_CALLS = 1024;
  public static final int DEFAULT_MAX_CALLS_PER_CONNECTION = 512;
  public static final Duration KEEPALIVE_TIMEOUT = Duration.ofSeconds(20);
  /** Calls in flight when a connection reaches its age may finish within this. */
  public static final Duration MAX_CONNECTION_AGE_GRACE = Duration.ofMinutes(1);
  public static final GrpcServerLimits DEFAULTS = new GrpcServerLimits(DEFAULT_MAX_CONCURRENT_CALLS,
      DEFAULT_MAX_CALLS_PER_CONNECTION, Duration.ofMinutes(1), Duration.ofHours(1));

  public GrpcServerLimits {
    if (maxConcurrentCalls < 1) {
      throw new IllegalArgumentException("--max-concurrent-calls must be >= 1");
    }
    if (maxCallsPerConnection < 1) {
      throw new IllegalArgumentException("--max-calls-per-connection must be >= 1");
    }
    if (keepAliveTime.isNegative() || keepAliveTime.isZero() || maxConnectionAge.isNegative()
        || maxConnectionAge.isZero()) {
      throw new IllegalArgumentException("keepalive time and connection age must be > 0");
    }
  }
}
