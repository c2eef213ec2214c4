package dev.arbor.server.cli;

import picocli.CommandLine.Option;

/** Where a server role listens. */
final class ListenOptions {
  @Option(names = "--grpc-host", defaultValue = "0.0.0.0", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--grpc-port", defaultValue = "17912", description = "gRPC port (default: ${DEFAULT-VALUE}).")
  int grpcPort;

  @Option(names = "--http-port", defaultValue = "17913", description = "HTTP port for /health and /metrics (default: ${DEFAULT-VALUE}).")
  int httpPort;
}
