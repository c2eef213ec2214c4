package dev.arbor.transport;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * TLS of a listener: its certificate chain and private key (PEM, PKCS#8 key), and optionally the
 * CA whose certificates clients must present (client-certificate mode). The files are re-read
 * every {@code reloadInterval} when they change, so a renewed certificate needs no restart.
 */
public record ServerTls(Path certFile, Path keyFile, Path clientCaFile, Duration reloadInterval) {
  public ServerTls {
    Objects.requireNonNull(certFile, "certFile");
    Objects.requireNonNull(keyFile, "keyFile");
    Objects.requireNonNull(reloadInterval, "reloadInterval");
    if (reloadInterval.isNegative() || reloadInterval.isZero()) {
      throw new IllegalArgumentException("reloadInterval must be positive");
    }
  }

  public boolean requiresClientCertificate() {
    return clientCaFile != null;
  }
}
