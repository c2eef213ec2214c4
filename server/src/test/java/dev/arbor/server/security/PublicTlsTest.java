package dev.arbor.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.arbor.api.banyandb.common.v1.GetAPIVersionRequest;
import dev.arbor.api.banyandb.common.v1.ServiceGrpc;
import dev.arbor.transport.ClientSecurity;
import dev.arbor.transport.HttpAuth;
import dev.arbor.transport.SecurityConfig;
import dev.arbor.transport.ServerTls;
import dev.arbor.transport.TestPki;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS on the public gRPC and HTTP ports of a real standalone server, with certificates made in the test. */
class PublicTlsTest {
  private static final Duration RELOAD = Duration.ofMillis(200);

  @TempDir Path dir;

  private static String version(ManagedChannel ch) {
    return ServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
        .getAPIVersion(GetAPIVersionRequest.getDefaultInstance()).getVersion().getVersion();
  }

  private SecurityConfig tls(TestPki.Leaf leaf, Path clientCa) {
    return new SecurityConfig(new ServerTls(leaf.certFile(), leaf.keyFile(), clientCa, RELOAD), null, HttpAuth.NONE,
        RELOAD);
  }

  @Test
  void tlsClientIsServedAndPlaintextClientIsRefused() throws Exception {
    TestPki ca = TestPki.newCa("test-ca");
    Path caFile = ca.writeCa(dir.resolve("ca.crt"));
    TestPki.Leaf leaf = ca.issue("arbor", dir, "server");
    try (SecureStandalone s = SecureStandalone.start(dir.resolve("data"), tls(leaf, null))) {
      assertThat(version(s.channel(new ClientSecurity(caFile, null, null, null)))).isEqualTo("0.9");

      StatusRuntimeException plain = catchThrowableOfType(StatusRuntimeException.class,
          () -> version(s.channel(ClientSecurity.PLAINTEXT)));
      assertThat(plain.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);

      // A client trusting another CA does not accept the server's certificate.
      Path otherCa = TestPki.newCa("other-ca").writeCa(dir.resolve("other.crt"));
      StatusRuntimeException untrusted = catchThrowableOfType(StatusRuntimeException.class,
          () -> version(s.channel(new ClientSecurity(otherCa, null, null, null))));
      assertThat(untrusted.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    }
  }

  @Test
  void httpPortServesHttpsWithTheSameCertificate() throws Exception {
    TestPki ca = TestPki.newCa("test-ca");
    Path caFile = ca.writeCa(dir.resolve("ca.crt"));
    TestPki.Leaf leaf = ca.issue("arbor", dir, "server");
    try (SecureStandalone s = SecureStandalone.start(dir.resolve("data"), tls(leaf, null))) {
      HttpClient client = HttpClient.newBuilder().sslContext(SecureStandalone.trusting(caFile))
          .connectTimeout(Duration.ofSeconds(10)).build();
      HttpResponse<String> health = client.send(HttpRequest.newBuilder(
          URI.create("https://localhost:" + s.server.httpPort() + "/health")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(health.sslSession()).isPresent();
      assertThat(health.sslSession().get().getPeerCertificates()[0]).isEqualTo(leaf.cert());
    }
  }

  @Test
  void renewedCertificateIsUsedWithoutRestart() throws Exception {
    TestPki first = TestPki.newCa("first-ca");
    Path firstCa = first.writeCa(dir.resolve("first.crt"));
    TestPki.Leaf leaf = first.issue("arbor", dir, "server");
    try (SecureStandalone s = SecureStandalone.start(dir.resolve("data"), tls(leaf, null))) {
      assertThat(version(s.channel(new ClientSecurity(firstCa, null, null, null)))).isEqualTo("0.9");

      // The operator replaces the files with a certificate from another CA.
      TestPki second = TestPki.newCa("second-ca");
      Path secondCa = second.writeCa(dir.resolve("second.crt"));
      second.issue("arbor", dir, "server");

      // New connections from a client trusting only the new CA succeed once the files are re-read.
      Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
          .ignoreExceptionsInstanceOf(StatusRuntimeException.class).untilAsserted(() ->
          assertThat(version(s.channel(new ClientSecurity(secondCa, null, null, null)))).isEqualTo("0.9"));
      StatusRuntimeException old = catchThrowableOfType(StatusRuntimeException.class,
          () -> version(s.channel(new ClientSecurity(firstCa, null, null, null))));
      assertThat(old.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    }
  }

  @Test
  void clientCertificateModeAcceptsOnlyClientsWithACertificateFromTheClientCa() throws Exception {
    TestPki serverCa = TestPki.newCa("server-ca");
    Path serverCaFile = serverCa.writeCa(dir.resolve("server-ca.crt"));
    TestPki.Leaf serverLeaf = serverCa.issue("arbor", dir, "server");
    TestPki clientCa = TestPki.newCa("client-ca");
    Path clientCaFile = clientCa.writeCa(dir.resolve("client-ca.crt"));
    TestPki.Leaf alice = clientCa.issue("alice", dir, "alice");
    TestPki.Leaf mallory = TestPki.newCa("rogue-ca").issue("mallory", dir, "mallory");
    try (SecureStandalone s = SecureStandalone.start(dir.resolve("data"), tls(serverLeaf, clientCaFile))) {
      assertThat(version(s.channel(new ClientSecurity(serverCaFile, alice.certFile(), alice.keyFile(), null))))
          .isEqualTo("0.9");

      StatusRuntimeException none = catchThrowableOfType(StatusRuntimeException.class,
          () -> version(s.channel(new ClientSecurity(serverCaFile, null, null, null))));
      assertThat(none.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);

      StatusRuntimeException rogue = catchThrowableOfType(StatusRuntimeException.class,
          () -> version(s.channel(new ClientSecurity(serverCaFile, mallory.certFile(), mallory.keyFile(), null))));
      assertThat(rogue.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    }
  }

  @Test
  void unreadableKeyMaterialStopsTheStartWithAMessageNamingTheFile() throws Exception {
    TestPki ca = TestPki.newCa("test-ca");
    TestPki.Leaf leaf = ca.issue("arbor", dir, "server");
    java.nio.file.Files.writeString(leaf.keyFile(), "not a key\n");
    IllegalArgumentException e = catchThrowableOfType(IllegalArgumentException.class,
        () -> SecureStandalone.start(dir.resolve("data"), tls(leaf, null)));
    assertThat(e).hasMessageContaining(leaf.keyFile().toString());
  }
}
