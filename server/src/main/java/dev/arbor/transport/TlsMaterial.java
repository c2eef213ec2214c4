package dev.arbor.transport;

import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.Closeable;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;

/**
 * A listener's key material, shared by its gRPC and HTTPS sides, re-read from the PEM files when
 * they change. grpc-java's {@link AdvancedTlsX509KeyManager} does the reloading (it checks the
 * files' modification times every interval and keeps the previous credentials if a new file does
 * not load); new handshakes use the new certificate, open connections keep theirs.
 */
public final class TlsMaterial implements AutoCloseable {
  private final ServerTls config;
  private final AdvancedTlsX509KeyManager keys;
  private final AdvancedTlsX509TrustManager clientCas;
  private final ScheduledExecutorService reloader;
  private final Closeable keyReload;
  private final Closeable caReload;

  private TlsMaterial(ServerTls config, AdvancedTlsX509KeyManager keys, AdvancedTlsX509TrustManager clientCas,
      ScheduledExecutorService reloader, Closeable keyReload, Closeable caReload) {
    this.config = config;
    this.keys = keys;
    this.clientCas = clientCas;
    this.reloader = reloader;
    this.keyReload = keyReload;
    this.caReload = caReload;
  }

  /**
   * Loads the files now (so a bad file stops the start with a message naming it) and starts
   * watching them.
   *
   * @throws IllegalArgumentException when a file cannot be read or parsed
   */
  public static TlsMaterial load(ServerTls config) {
    AdvancedTlsX509KeyManager keys = new AdvancedTlsX509KeyManager();
    try {
      keys.updateIdentityCredentials(config.certFile().toFile(), config.keyFile().toFile());
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      throw new IllegalArgumentException("cannot load the TLS certificate " + config.certFile() + " with key "
          + config.keyFile() + ": " + describe(e), e);
    }
    AdvancedTlsX509TrustManager cas = null;
    if (config.clientCaFile() != null) {
      try {
        cas = AdvancedTlsX509TrustManager.newBuilder()
            .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION)
            .build();
        cas.updateTrustCredentials(config.clientCaFile().toFile());
      } catch (IOException | GeneralSecurityException | RuntimeException e) {
        throw new IllegalArgumentException("cannot load the client CA file " + config.clientCaFile() + ": "
            + describe(e), e);
      }
    }
    ScheduledExecutorService reloader = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "arbor-tls-reload");
      t.setDaemon(true);
      return t;
    });
    long period = config.reloadInterval().toMillis();
    try {
      Closeable keyReload = keys.updateIdentityCredentials(config.certFile().toFile(), config.keyFile().toFile(),
          period, TimeUnit.MILLISECONDS, reloader);
      Closeable caReload = cas == null ? null
          : cas.updateTrustCredentials(config.clientCaFile().toFile(), period, TimeUnit.MILLISECONDS, reloader);
      return new TlsMaterial(config, keys, cas, reloader, keyReload, caReload);
    } catch (IOException | GeneralSecurityException e) {
      reloader.shutdownNow();
      throw new IllegalArgumentException("cannot watch the TLS files: " + describe(e), e);
    }
  }

  private static String describe(Exception e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  public ServerTls config() {
    return config;
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
    try {
      keyReload.close();
      if (caReload != null) {
        caReload.close();
      }
    } catch (IOException e) {
      // Closing only cancels a scheduled task; nothing to report.
    }
    reloader.shutdownNow();
  }
}
