package dev.arbor.metadata.etcd;

import io.grpc.netty.GrpcSslContexts;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import io.grpc.util.CertificateUtils;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS context of the etcd client, from PEM files that are re-read when their content
 * changes. jetcd runs on the unshaded grpc-netty (not the grpc-netty-shaded the rest of Arbor
 * uses), so this is a plain {@code io.netty} {@link SslContext}.
 *
 * <p>The context is built once, around grpc-java's reloadable key and trust managers: every TLS
 * handshake asks them for the current client certificate and CA, so the client never has to be
 * rebuilt (which would drop its lease keep-alive and watches). A renewed certificate is presented
 * on the next connection to etcd; an open connection keeps the certificate it was made with,
 * which etcd checked once, at its handshake. Files that do not load or do not match leave the
 * previous material in use, with a warning saying why. Errors at start name the flag and file,
 * in one line.
 */
final class EtcdTls implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EtcdTls.class);

  private final EtcdClientConfig config;
  /** Null without a client certificate. */
  private final AdvancedTlsX509KeyManager keys;
  /** Null without a CA file (the JDK's trusted CAs, which this does not reload). */
  private final AdvancedTlsX509TrustManager cas;
  private final ScheduledExecutorService reloader;
  private final SslContext context;
  private byte[] loadedDigest;
  private volatile X509Certificate clientCertificate;

  private EtcdTls(EtcdClientConfig config) {
    this.config = config;
    this.keys = config.certFile() == null ? null : new AdvancedTlsX509KeyManager();
    try {
      // Host name checked as before: each endpoint's certificate must name that endpoint's host.
      this.cas = config.caFile() == null ? null : AdvancedTlsX509TrustManager.newBuilder()
          .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION).build();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK offers no X.509 trust manager", e);
    }
    reload();
    SslContextBuilder b = GrpcSslContexts.forClient();
    if (cas != null) {
      b.trustManager(cas);
    }
    if (keys != null) {
      b.keyManager(new IssuerMatchingKeyManager(keys));
    }
    try {
      this.context = b.build();
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException("cannot build the etcd TLS context: " + describe(e), e);
    }
    this.reloader = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "arbor-etcd-tls-reload");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Loads the files now (a bad file stops the start with a message naming it) and, when there is
   * a CA or client certificate file, checks them for changes every {@code config.reloadInterval()}.
   *
   * @throws IllegalArgumentException when a file cannot be read or parsed
   */
  static EtcdTls load(EtcdClientConfig config) {
    EtcdTls tls = new EtcdTls(config);
    if (tls.keys != null || tls.cas != null) {
      long period = config.reloadInterval().toMillis();
      tls.reloader.scheduleWithFixedDelay(tls::reloadIfChanged, period, period, TimeUnit.MILLISECONDS);
    }
    return tls;
  }

  SslContext sslContext() {
    return context;
  }

  /** The client certificate presented on new connections, null without one. */
  X509Certificate clientCertificate() {
    return clientCertificate;
  }

  /** Reloads when any file's content differs from what was loaded (package-private for tests). */
  synchronized void reloadIfChanged() {
    try {
      if (!Arrays.equals(digest(), loadedDigest)) {
        reload();
        LOG.info("reloaded the etcd client TLS files{}{}; new connections to etcd use them",
            config.certFile() == null ? "" : ": certificate " + config.certFile() + ", key " + config.keyFile(),
            config.caFile() == null ? "" : (config.certFile() == null ? ": " : ", ") + "CA " + config.caFile());
      }
    } catch (IllegalArgumentException e) {
      LOG.warn("not reloading the etcd client TLS files (the previous ones stay in use): {}", e.getMessage());
    } catch (RuntimeException e) {
      LOG.warn("not reloading the etcd client TLS files (the previous ones stay in use)", e);
    }
  }

  private synchronized void reload() {
    byte[] digest = digest();
    X509Certificate[] ca = config.caFile() == null ? null : certificates(config.caFile(), "--etcd-ca-file");
    X509Certificate[] chain = null;
    PrivateKey key = null;
    if (config.certFile() != null) {
      chain = certificates(config.certFile(), "--etcd-cert-file");
      key = privateKey(config.keyFile());
      if (!key.getAlgorithm().equals(chain[0].getPublicKey().getAlgorithm())) {
        throw new IllegalArgumentException("--etcd-key-file " + config.keyFile() + " is a " + key.getAlgorithm()
            + " key but the certificate in " + config.certFile() + " is for a "
            + chain[0].getPublicKey().getAlgorithm() + " key");
      }
    }
    // Both parsed before either is swapped in: a half-written pair changes nothing.
    if (ca != null) {
      try {
        cas.updateTrustCredentials(ca);
      } catch (IOException | GeneralSecurityException e) {
        throw new IllegalArgumentException("--etcd-ca-file " + config.caFile() + ": " + describe(e), e);
      }
    }
    if (chain != null) {
      keys.updateIdentityCredentials(chain, key);
      clientCertificate = chain[0];
    }
    loadedDigest = digest;
  }

  private byte[] digest() {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (Path p : new Path[] {config.caFile(), config.certFile(), config.keyFile()}) {
        if (p != null) {
          md.update(read(p, flagOf(p)));
        }
      }
      return md.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  private String flagOf(Path p) {
    return p == config.caFile() ? "--etcd-ca-file" : p == config.certFile() ? "--etcd-cert-file" : "--etcd-key-file";
  }

  private static X509Certificate[] certificates(Path file, String flag) {
    X509Certificate[] certs;
    byte[] pem = read(file, flag);
    try {
      certs = CertificateUtils.getX509Certificates(new ByteArrayInputStream(pem));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new IllegalArgumentException(flag + " " + file + " holds no PEM certificate: " + describe(e), e);
    }
    if (certs.length == 0) {
      throw new IllegalArgumentException(flag + " " + file + " holds no PEM certificate");
    }
    return certs;
  }

  private static PrivateKey privateKey(Path file) {
    byte[] pem = read(file, "--etcd-key-file");
    try {
      return CertificateUtils.getPrivateKey(new ByteArrayInputStream(pem));
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      throw new IllegalArgumentException("--etcd-key-file " + file
          + " holds no PEM PKCS#8 private key ('BEGIN PRIVATE KEY'; convert with openssl pkcs8 -topk8 -nocrypt): "
          + describe(e), e);
    }
  }

  private static byte[] read(Path file, String flag) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + flag + " " + file + ": " + describe(e), e);
    }
  }

  private static String describe(Exception e) {
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  @Override
  public void close() {
    reloader.shutdownNow();
  }
}
