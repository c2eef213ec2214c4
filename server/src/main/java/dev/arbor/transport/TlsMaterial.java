package dev.arbor.transport;

import io.grpc.ChannelCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import io.grpc.util.CertificateUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
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
import java.util.function.Consumer;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A listener's key material, shared by its gRPC and HTTPS sides, re-read from the PEM files when
 * their content changes. The key and trust managers are grpc-java's reloadable ones
 * ({@link AdvancedTlsX509KeyManager}, {@link AdvancedTlsX509TrustManager}): each handshake asks
 * them for the current material, so new connections get a renewed certificate and open ones keep
 * theirs. Their own file polling is not used: it never polls more often than once a minute and
 * only reloads when both files' modification times changed; this one compares contents at the
 * configured interval, and keeps the previous material (logging why) when the new files do not
 * load or do not match.
 */
public final class TlsMaterial implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TlsMaterial.class);

  private final ServerTls config;
  private final Flags flags;
  private final Consumer<X509Certificate> identityCheck;
  private final AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
  private final AdvancedTlsX509TrustManager clientCas;
  /** The same CA, checking the host name of a server this process calls (mutual TLS between nodes). */
  private final AdvancedTlsX509TrustManager serverCas;
  private final ScheduledExecutorService reloader;
  private byte[] loadedDigest;
  private volatile X509Certificate leaf;

  /** The option names a message about each file cites. */
  public record Flags(String cert, String key, String ca) {
    public static final Flags PUBLIC = new Flags("--tls-cert-file", "--tls-key-file", "--tls-client-ca-file");
  }

  private TlsMaterial(ServerTls config, Flags flags, Consumer<X509Certificate> identityCheck) {
    this.config = config;
    this.flags = flags;
    this.identityCheck = identityCheck;
    try {
      this.clientCas = config.clientCaFile() == null ? null : AdvancedTlsX509TrustManager.newBuilder()
          .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION).build();
      this.serverCas = config.clientCaFile() == null ? null : AdvancedTlsX509TrustManager.newBuilder()
          .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION).build();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK offers no X.509 trust manager", e);
    }
    this.reloader = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "arbor-tls-reload");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Loads the files now (so a bad file stops the start with a message naming it) and starts
   * watching them.
   *
   * @throws IllegalArgumentException when a file cannot be read or parsed
   */
  public static TlsMaterial load(ServerTls config) {
    return load(config, Flags.PUBLIC, c -> { });
  }

  /**
   * As above, messages naming {@code flags}; {@code identityCheck} throws
   * IllegalArgumentException for a leaf certificate this process must not present (at start that
   * stops the start; on reload the previous certificate stays in use).
   */
  public static TlsMaterial load(ServerTls config, Flags flags, Consumer<X509Certificate> identityCheck) {
    TlsMaterial m = new TlsMaterial(config, flags, identityCheck);
    try {
      m.reload();
    } catch (IllegalArgumentException e) {
      m.close();
      throw e;
    }
    TlsEngine engine = TlsEngine.detect();
    if (engine.openSsl()) {
      LOG.info("TLS of {}: engine {}", config.certFile(), engine.description());
    } else {
      LOG.warn("TLS of {}: engine {}; TLS costs more CPU per byte than with BoringSSL", config.certFile(),
          engine.description());
    }
    long period = config.reloadInterval().toMillis();
    m.reloader.scheduleWithFixedDelay(m::reloadIfChanged, period, period, TimeUnit.MILLISECONDS);
    return m;
  }

  /** Reloads when any file's content differs from what was loaded (package-private for tests). */
  synchronized void reloadIfChanged() {
    try {
      if (!Arrays.equals(digest(), loadedDigest)) {
        reload();
        LOG.info("reloaded the TLS certificate {} and key {}{}", config.certFile(), config.keyFile(),
            config.clientCaFile() == null ? "" : " and client CA " + config.clientCaFile());
      }
    } catch (IllegalArgumentException e) {
      LOG.warn("not reloading the TLS files (the previous certificate stays in use): {}", e.getMessage());
    } catch (RuntimeException e) {
      LOG.warn("not reloading the TLS files (the previous certificate stays in use)", e);
    }
  }

  private synchronized void reload() {
    byte[] digest = digest();
    byte[] certBytes = read(config.certFile(), flags.cert());
    byte[] keyBytes = read(config.keyFile(), flags.key());
    X509Certificate[] chain;
    PrivateKey key;
    try {
      chain = CertificateUtils.getX509Certificates(new ByteArrayInputStream(certBytes));
    } catch (GeneralSecurityException | RuntimeException e) {
      throw new IllegalArgumentException(flags.cert() + " " + config.certFile() + " holds no PEM certificate: "
          + describe(e), e);
    }
    if (chain.length == 0) {
      throw new IllegalArgumentException(flags.cert() + " " + config.certFile() + " holds no PEM certificate");
    }
    try {
      key = CertificateUtils.getPrivateKey(new ByteArrayInputStream(keyBytes));
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      throw new IllegalArgumentException(flags.key() + " " + config.keyFile()
          + " holds no PEM PKCS#8 private key ('BEGIN PRIVATE KEY'; convert with openssl pkcs8 -topk8 -nocrypt): "
          + describe(e), e);
    }
    if (!key.getAlgorithm().equals(chain[0].getPublicKey().getAlgorithm())) {
      throw new IllegalArgumentException(flags.key() + " " + config.keyFile() + " is a " + key.getAlgorithm()
          + " key but the certificate in " + config.certFile() + " is for a " + chain[0].getPublicKey().getAlgorithm()
          + " key");
    }
    X509Certificate[] cas = null;
    if (config.clientCaFile() != null) {
      byte[] caBytes = read(config.clientCaFile(), flags.ca());
      try {
        cas = CertificateUtils.getX509Certificates(new ByteArrayInputStream(caBytes));
      } catch (GeneralSecurityException | RuntimeException e) {
        throw new IllegalArgumentException(flags.ca() + " " + config.clientCaFile()
            + " holds no PEM certificate: " + describe(e), e);
      }
      if (cas.length == 0) {
        throw new IllegalArgumentException(flags.ca() + " " + config.clientCaFile() + " holds no PEM certificate");
      }
    }
    identityCheck.accept(chain[0]);
    keys.updateIdentityCredentials(chain, key);
    leaf = chain[0];
    if (cas != null) {
      try {
        clientCas.updateTrustCredentials(cas);
        serverCas.updateTrustCredentials(cas);
      } catch (IOException | GeneralSecurityException e) {
        throw new IllegalArgumentException(flags.ca() + " " + config.clientCaFile() + ": " + describe(e), e);
      }
    }
    loadedDigest = digest;
  }

  private byte[] digest() {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(read(config.certFile(), flags.cert()));
      md.update(read(config.keyFile(), flags.key()));
      if (config.clientCaFile() != null) {
        md.update(read(config.clientCaFile(), flags.ca()));
      }
      return md.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK lacks SHA-256", e);
    }
  }

  private static byte[] read(Path file, String flag) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + flag + " " + file + ": " + describe(e), e);
    }
  }

  static String describe(Exception e) {
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  public ServerTls config() {
    return config;
  }

  /** The certificate presented now (the first of the chain). */
  public X509Certificate certificate() {
    return leaf;
  }

  /**
   * Credentials for channels to servers of the same cluster: this certificate presented, the
   * server's checked against the CA file (chain and host name). Both follow reloads.
   *
   * @throws IllegalStateException no CA file was configured
   */
  public ChannelCredentials channelCredentials() {
    if (serverCas == null) {
      throw new IllegalStateException("mutual TLS channels need a CA file");
    }
    return TlsChannelCredentials.newBuilder().keyManager(keys).trustManager(serverCas).build();
  }

  /** Credentials for a gRPC server. */
  public ServerCredentials grpcCredentials() {
    TlsServerCredentials.Builder b = TlsServerCredentials.newBuilder().keyManager(keys);
    if (clientCas != null) {
      b.trustManager(clientCas).clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
    }
    return b.build();
  }

  /** A JDK TLS context for the HTTPS port, backed by the same reloading key material. */
  public SSLContext sslContext() {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(new KeyManager[] {keys}, clientCas == null ? null : new TrustManager[] {clientCas}, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK offers no TLS context", e);
    }
  }

  @Override
  public void close() {
    reloader.shutdownNow();
  }
}
