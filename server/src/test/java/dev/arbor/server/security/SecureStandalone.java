package dev.arbor.server.security;

import dev.arbor.server.ServerConfig;
import dev.arbor.server.StandaloneServer;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.ClientSecurity;
import dev.arbor.transport.MessageLimits;
import dev.arbor.transport.SecurityConfig;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** A real standalone server on loopback with the given security, and channels to it that are closed with it. */
final class SecureStandalone implements AutoCloseable {
  final StandaloneServer server;
  private final List<ManagedChannel> channels = new ArrayList<>();

  private SecureStandalone(StandaloneServer server) {
    this.server = server;
  }

  static SecureStandalone start(Path dataDir, SecurityConfig security) throws IOException {
    return new SecureStandalone(StandaloneServer.start(
        ServerConfig.defaults(dataDir).withHost("127.0.0.1").withPorts(0, 0), security));
  }

  String target() {
    return "127.0.0.1:" + server.grpcPort();
  }

  /** A channel built as the CLI builds it. */
  ManagedChannel channel(ClientSecurity security) {
    ManagedChannel ch = ChannelFactory.of(security).open(target(), MessageLimits.CLIENT_MAX_INBOUND_BYTES);
    channels.add(ch);
    return ch;
  }

  @Override
  public void close() throws InterruptedException {
    for (ManagedChannel ch : channels) {
      ch.shutdownNow();
      ch.awaitTermination(5, TimeUnit.SECONDS);
    }
    server.close();
  }

  /** Writes a users file with mode 0600, replacing any previous one at once. */
  static Path writeUsers(Path file, String yaml) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, yaml, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return file;
  }

  /** A JDK TLS context trusting only the CA in {@code caFile} (for the HTTPS port). */
  static SSLContext trusting(Path caFile) throws Exception {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    try (InputStream in = Files.newInputStream(caFile)) {
      ks.setCertificateEntry("ca", (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }
}
