package dev.arbor.transport;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Mutual TLS between the nodes of a cluster: this node's certificate and key (PEM, PKCS#8; its
 * subject CN is the node id) and the cluster CA every node's certificate is signed by. The same
 * files serve the internal listener and every channel to another node, and are re-read when
 * they change.
 */
public record InternalTls(Path certFile, Path keyFile, Path caFile, Duration reloadInterval) {
  static final TlsMaterial.Flags FLAGS =
      new TlsMaterial.Flags("--internal-tls-cert-file", "--internal-tls-key-file", "--internal-tls-ca-file");

  public InternalTls {
    Objects.requireNonNull(certFile, "certFile");
    Objects.requireNonNull(keyFile, "keyFile");
    Objects.requireNonNull(caFile, "caFile");
    Objects.requireNonNull(reloadInterval, "reloadInterval");
  }

  /**
   * Loads the files and starts watching them.
   *
   * @throws IllegalArgumentException a file cannot be used, or the certificate is not for
   *     {@code nodeId}; the message names the option
   */
  public TlsMaterial load(String nodeId) {
    return TlsMaterial.load(new ServerTls(certFile, keyFile, caFile, reloadInterval), FLAGS,
        NodeIdentity.requiring(nodeId, FLAGS.cert(), certFile));
  }
}
