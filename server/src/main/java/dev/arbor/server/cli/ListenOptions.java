package dev.arbor.server.cli;

import dev.arbor.http.HttpApiLimits;
import dev.arbor.transport.GrpcServerLimits;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Where a server role listens. */
final class ListenOptions {
  @Option(names = "--grpc-host", defaultValue = "0.0.0.0", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--grpc-port", defaultValue = "17912", description = "gRPC port (default: ${DEFAULT-VALUE}).")
  int grpcPort;

  @Option(names = "--http-port", defaultValue = "17913", description = "HTTP port for /health and /metrics (default: ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--max-concurrent-calls", defaultValue = "1024",
      description = "gRPC calls handled at once; one more is answered RESOURCE_EXHAUSTED at once (default: ${DEFAULT-VALUE}).")
  int maxConcurrentCalls;

  @Option(names = "--max-calls-per-connection", defaultValue = "512",
      description = "gRPC calls one connection may have open at once (default: ${DEFAULT-VALUE}).")
  int maxCallsPerConnection;

  @Option(names = "--grpc-keepalive", defaultValue = "1m", converter = DurationConverter.class,
      description = "Ping an idle connection this often; a peer that stops answering is dropped 20s later (default: ${DEFAULT-VALUE}).")
  Duration keepAlive;

  @Option(names = "--max-connection-age", defaultValue = "1h", converter = DurationConverter.class,
      description = "Close a connection gracefully after this long, so clients spread over restarted nodes again (default: ${DEFAULT-VALUE}).")
  Duration maxConnectionAge;

  @Option(names = "--max-queued-reply-bytes", defaultValue = "-1", paramLabel = "BYTES",
      description = "Public API: reply bytes held at once for clients that have not read them yet; a reply beyond is"
          + " answered RESOURCE_EXHAUSTED instead of waiting in memory (default: a quarter of the JVM's max heap;"
          + " 0 = no cap).")
  long maxQueuedReplyBytes;

  @Option(names = "--http-api-max-body-bytes", defaultValue = "16777216", paramLabel = "BYTES",
      description = "HTTP API (standalone, liaison): largest request body read; a larger one is answered 413"
          + " (default: ${DEFAULT-VALUE}, 16 MiB).")
  long httpApiMaxBodyBytes;

  @Option(names = "--http-api-threads", defaultValue = "8",
      description = "HTTP API (standalone, liaison): requests run at once (default: ${DEFAULT-VALUE}).")
  int httpApiThreads;

  @Option(names = "--http-api-queue", defaultValue = "64",
      description = "HTTP API (standalone, liaison): requests waiting for a thread; one more is answered 429"
          + " (default: ${DEFAULT-VALUE}).")
  int httpApiQueue;

  GrpcServerLimits serverLimits() {
    return new GrpcServerLimits(maxConcurrentCalls, maxCallsPerConnection, keepAlive, maxConnectionAge,
        maxQueuedReplyBytes < 0 ? GrpcServerLimits.defaultMaxQueuedReplyBytes() : maxQueuedReplyBytes,
        new HttpApiLimits(httpApiMaxBodyBytes, httpApiThreads, httpApiQueue));
  }
}
