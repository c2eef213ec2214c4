package dev.arbor.server.cli;

import dev.arbor.server.InternalListener;
import dev.arbor.transport.InternalTls;
import picocli.CommandLine.Option;

/** Where a data node serves what peers and liaisons call. */
final class InternalListenOptions {
  @Option(names = "--internal-host", paramLabel = "HOST",
      description = "Address of the internal listener (what peers and liaisons call); default: the --grpc-host value."
          + " Not a loopback address: needs the --internal-tls-* options or --insecure-internal.")
  String host;

  @Option(names = "--internal-port", paramLabel = "PORT", defaultValue = "" + InternalListener.DEFAULT_PORT,
      description = "Port of the internal listener; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--insecure-internal",
      description = "Serve the internal listener without mutual TLS on a non-loopback address: anyone who"
          + " reaches it may write, repair and gossip. Logs a warning at start.")
  boolean insecure;

  InternalListener config(String grpcHost, InternalTls tls) {
    return new InternalListener(host == null ? grpcHost : host, port, tls, insecure);
  }
}
