package dev.arbor.harness;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Where a TLS cluster's certificates come from: the harness only passes files to the processes;
 * making them (openssl, Bouncy Castle) is the caller's business.
 */
public interface CertificateAuthority {
  /** The CA certificate (PEM) every node trusts. */
  Path caFile();

  /** A certificate of this CA with {@code commonName} (a data node's is its node id). */
  NodeCert issue(String commonName) throws IOException;

  /** An HTTP client trusting the CA in {@code caFile}, for HTTPS {@code /health} and {@code /metrics}. */
  static HttpClient httpClientTrusting(Path caFile, Duration connectTimeout) {
    try (InputStream in = Files.newInputStream(caFile)) {
      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ssl = SSLContext.getInstance("TLS");
      ssl.init(null, tmf.getTrustManagers(), null);
      return HttpClient.newBuilder().connectTimeout(connectTimeout).sslContext(ssl).build();
    } catch (IOException | GeneralSecurityException e) {
      throw new HarnessException("cannot load the CA certificate " + caFile + ": " + e, e);
    }
  }
}
