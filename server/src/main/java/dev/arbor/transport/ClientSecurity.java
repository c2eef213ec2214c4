package dev.arbor.transport;

import java.nio.file.Path;

/**
 * How a client reaches a server: plaintext or TLS trusting {@code caFile} (PEM), optionally
 * presenting its own certificate ({@code certFile}/{@code keyFile}), and optionally sending
 * {@code credentials} as the {@code username}/{@code password} metadata BanyanDB clients use.
 */
public record ClientSecurity(Path caFile, Path certFile, Path keyFile, Credentials credentials) {
  public static final ClientSecurity PLAINTEXT = new ClientSecurity(null, null, null, null);

  public ClientSecurity {
    if ((certFile == null) != (keyFile == null)) {
      throw new IllegalArgumentException("a client certificate needs both its certificate and its key file");
    }
    if (certFile != null && caFile == null) {
      throw new IllegalArgumentException("a client certificate is only sent over TLS: give the CA file too");
    }
  }

  public boolean tls() {
    return caFile != null;
  }

  public ClientSecurity withCredentials(Credentials c) {
    return new ClientSecurity(caFile, certFile, keyFile, c);
  }
}
