package dev.arbor.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.grpc.netty.shaded.io.netty.handler.ssl.OpenSslSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Pattern;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which TLS engine real handshakes run on: BoringSSL on both ends of the public port (server-only
 * and client-certificate mode) and of mutual TLS between nodes, with the reloading key material
 * of {@link TlsMaterial}. A silent fall-back to the JDK's engine (several times the CPU per byte)
 * fails here on every platform grpc-netty-shaded ships the native library for.
 */
class TlsEngineTest {
  private static final Duration RELOAD = Duration.ofSeconds(30);

  @TempDir Path dir;

  @Test
  void nativeEngineLoadsWhereItIsShipped() {
    assumeTrue(TlsEngine.nativeShipped(), "grpc-netty-shaded ships no netty-tcnative for "
        + System.getProperty("os.name") + "/" + System.getProperty("os.arch"));
    TlsEngine engine = TlsEngine.detect();
    assertThat(engine.openSsl()).as(engine.description()).isTrue();
    assertThat(engine.description()).contains("BoringSSL");
  }

  @Test
  void publicTlsRunsOnTheNativeEngineAtBothEnds() throws Exception {
    assumeTrue(TlsEngine.detect().openSsl(), TlsEngine.detect().description());
    TestPki ca = TestPki.newCa("engine-ca");
    Path caFile = ca.writeCa(dir.resolve("ca.crt"));
    TestPki.Leaf server = ca.issue("arbor", dir, "server");
    TestPki.Leaf client = ca.issue("alice", dir, "alice");
    try (TlsMaterial tls = TlsMaterial.load(new ServerTls(server.certFile(), server.keyFile(), null, RELOAD));
        TlsProbeServer s = new TlsProbeServer(tls)) {
      SSLSession clientSide = s.call(ChannelFactory.of(new ClientSecurity(caFile, null, null, null)), "localhost");
      assertNative(clientSide, s.lastServerSession());
    }
    try (TlsMaterial tls = TlsMaterial.load(new ServerTls(server.certFile(), server.keyFile(), caFile, RELOAD));
        TlsProbeServer s = new TlsProbeServer(tls)) {
      SSLSession clientSide = s.call(ChannelFactory.of(
          new ClientSecurity(caFile, client.certFile(), client.keyFile(), null)), "localhost");
      assertNative(clientSide, s.lastServerSession());
      assertThat(s.lastServerSession().getPeerCertificates()[0]).isEqualTo(client.cert());
    }
  }

  @Test
  void mutualTlsBetweenNodesRunsOnTheNativeEngineAtBothEnds() throws Exception {
    assumeTrue(TlsEngine.detect().openSsl(), TlsEngine.detect().description());
    TestPki ca = TestPki.newCa("cluster-ca");
    Path caFile = ca.writeCa(dir.resolve("ca.crt"));
    TestPki.Leaf n1 = ca.issue("n1", dir, "n1");
    TestPki.Leaf n2 = ca.issue("n2", dir, "n2");
    try (TlsMaterial server = new InternalTls(n1.certFile(), n1.keyFile(), caFile, RELOAD).load("n1");
        TlsMaterial client = new InternalTls(n2.certFile(), n2.keyFile(), caFile, RELOAD).load("n2");
        TlsProbeServer s = new TlsProbeServer(server)) {
      SSLSession clientSide = s.call(ChannelFactory.mutualTls(client), "127.0.0.1");
      assertNative(clientSide, s.lastServerSession());
      assertThat(s.lastServerSession().getPeerCertificates()[0]).isEqualTo(n2.cert());
      assertThat(clientSide.getPeerCertificates()[0]).isEqualTo(n1.cert());
    }
  }

  @Test
  void cipherIsAesGcmWhereTheCpuHasAesInstructions() throws Exception {
    assumeTrue(TlsEngine.detect().openSsl(), TlsEngine.detect().description());
    Path cpuinfo = Path.of("/proc/cpuinfo");
    assumeTrue(cpuHasAes(cpuinfo), "no 'aes' flag in " + cpuinfo);
    TestPki ca = TestPki.newCa("cipher-ca");
    Path caFile = ca.writeCa(dir.resolve("ca.crt"));
    TestPki.Leaf server = ca.issue("arbor", dir, "server");
    try (TlsMaterial tls = TlsMaterial.load(new ServerTls(server.certFile(), server.keyFile(), null, RELOAD));
        TlsProbeServer s = new TlsProbeServer(tls)) {
      SSLSession clientSide = s.call(ChannelFactory.of(new ClientSecurity(caFile, null, null, null)), "localhost");
      // BoringSSL prefers ChaCha20 only where AES has no hardware support.
      assertThat(clientSide.getProtocol()).isEqualTo("TLSv1.3");
      assertThat(clientSide.getCipherSuite()).matches("TLS_AES_(128|256)_GCM_SHA(256|384)");
    }
  }

  private static boolean cpuHasAes(Path cpuinfo) throws IOException {
    if (!Files.isReadable(cpuinfo)) {
      return false;
    }
    Pattern aes = Pattern.compile("^(flags|Features)\\s*:.*\\baes\\b.*");
    try (var lines = Files.lines(cpuinfo)) {
      return lines.anyMatch(l -> aes.matcher(l).matches());
    }
  }

  private static void assertNative(SSLSession client, SSLSession server) {
    assertThat(client).as("client session").isInstanceOf(OpenSslSession.class);
    assertThat(server).as("server session").isInstanceOf(OpenSslSession.class);
  }
}
