package dev.arbor.transport;

import dev.arbor.http.HttpApiLimits;
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
 * @param maxQueuedReplyBytes reply bytes held at once for clients that have not read them yet
 *     ({@link ReplyBudget}); a reply beyond is answered RESOURCE_EXHAUSTED. 0: no cap (the
 *     internal API, whose callers are liaisons that read at once)
 * @param httpApi the caps of the HTTP API, whose routes run this server's methods in-process
 */
public record GrpcServerLimits(int maxConcurrentCalls, int maxCallsPerConnection, Duration keepAliveTime,
    Duration maxConnectionAge, long maxQueuedReplyBytes, HttpApiLimits httpApi) {
  public static final int DEFAULT_MAX_CONCURRENT_CALLS = 1024;
  public static final int DEFAULT_MAX_CALLS_PER_CONNECTION = 512;
  public static final Duration KEEPALIVE_TIMEOUT = Duration.ofSeconds(20);
  /** Calls in flight when a connection reaches its age may finish within this. */
  public static final Duration MAX_CONNECTION_AGE_GRACE = Duration.ofMinutes(1);
  public static final GrpcServerLimits DEFAULTS = new GrpcServerLimits(DEFAULT_MAX_CONCURRENT_CALLS,
      DEFAULT_MAX_CALLS_PER_CONNECTION, Duration.ofMinutes(1), Duration.ofHours(1), defaultMaxQueuedReplyBytes());

  /** With the HTTP API's default caps. */
  public GrpcServerLimits(int maxConcurrentCalls, int maxCallsPerConnection, Duration keepAliveTime,
      Duration maxConnectionAge, long maxQueuedReplyBytes) {
    this(maxConcurrentCalls, maxCallsPerConnection, keepAliveTime, maxConnectionAge, maxQueuedReplyBytes,
        HttpApiLimits.DEFAULTS);
  }

  /**
   * A quarter of the JVM's heap: queued replies sit in direct buffers, which the JVM caps at the
   * heap's size by default, and the rest is needed for the replies being built and the calls'
   * own work.
   */
  public static long defaultMaxQueuedReplyBytes() {
    return Math.max(1 << 20, Runtime.getRuntime().maxMemory() / 4);
  }

  /** The same limits without a reply cap (for the internal API). */
  public GrpcServerLimits withoutReplyCap() {
    return new GrpcServerLimits(maxConcurrentCalls, maxCallsPerConnection, keepAliveTime, maxConnectionAge, 0, httpApi);
  }

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
    java.util.Objects.requireNonNull(httpApi, "httpApi");
    if (maxQueuedReplyBytes < 0) {
      throw new IllegalArgumentException("--max-queued-reply-bytes must be >= 0");
    }
  }
}
