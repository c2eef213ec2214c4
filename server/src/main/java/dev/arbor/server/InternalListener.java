package dev.arbor.server;

import dev.arbor.transport.InternalTls;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Where a data node serves what its peers call ({@code DataNodeService}, the repair session,
 * gossip, coverage, trace queries) and how that listener is protected: mutual TLS with the
 * cluster CA ({@code tls}), or nothing — allowed on a loopback address, elsewhere only when
 * {@code insecure} says the operator accepts it.
 *
 * @param host address to bind
 * @param port port to bind (0: any free one)
 * @param tls node certificate and cluster CA, or null for plaintext
 * @param insecure plaintext on a non-loopback address is accepted (a warning is logged)
 */
public record InternalListener(String host, int port, InternalTls tls, boolean insecure) {
  /** Next to BanyanDB's 17912 (gRPC) and 17913 (HTTP). */
  public static final int DEFAULT_PORT = 17914;

  /** Loopback, any free port, plaintext: nodes of one process or one machine (tests, dev cluster). */
  public static InternalListener loopback() {
    return new InternalListener("127.0.0.1", 0, null, false);
  }

  public InternalListener withTls(InternalTls t) {
    return new InternalListener(host, port, t, insecure);
  }

  /**
   * Whether this listener may start: plaintext on a non-loopback address needs {@code insecure}.
   *
   * @return true when it starts plaintext on a non-loopback address (the caller warns)
   * @throws IllegalArgumentException one line naming the three ways out
   */
  public boolean checkExposure() {
    if (tls != null || isLoopback(host)) {
      return false;
    }
    if (insecure) {
      return true;
    }
    throw new IllegalArgumentException("the internal listener " + host + ":" + port + " would take writes, repair and"
        + " gossip from anyone who reaches it: give --internal-tls-cert-file, --internal-tls-key-file and"
        + " --internal-tls-ca-file (mutual TLS), or bind it with --internal-host 127.0.0.1, or accept the risk"
        + " with --insecure-internal");
  }

  private static boolean isLoopback(String host) {
    try {
      return InetAddress.getByName(host).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
