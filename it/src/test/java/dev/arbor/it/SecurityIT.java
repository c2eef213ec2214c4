package dev.arbor.it;

import static dev.arbor.it.Props.byIds;
import static dev.arbor.it.Props.property;
import static dev.arbor.it.Props.propertyGroup;
import static dev.arbor.it.Props.schema;
import static dev.arbor.it.Props.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.transport.TestPki;
import io.grpc.Status;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.skywalking.banyandb.database.v1.BanyandbDatabase.TagType;
import org.apache.skywalking.banyandb.property.v1.BanyandbProperty;
import org.apache.skywalking.banyandb.v1.client.BanyanDBClient;
import org.apache.skywalking.banyandb.v1.client.Options;
import org.apache.skywalking.banyandb.v1.client.grpc.exception.BanyanDBException;
import org.awaitility.Awaitility;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * A real {@code arbor standalone} process with TLS and users, driven by the official client 0.9.0
 * with {@code forceTLS}, {@code sslTrustCAPath}, {@code username} and {@code password}: the
 * workflow runs, each role is held to its calls, plaintext and wrong credentials are refused, the
 * HTTP port is HTTPS with basic auth, and an edited users file is taken without a restart.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(180)
class SecurityIT {
  private static final String G = "sec_props";

  private Path dir;
  private Path caFile;
  private Path users;
  private ArborProcess server;

  @BeforeAll
  void start() throws Exception {
    dir = ArborProcess.newDataDir("security-files");
    TestPki ca = TestPki.newCa("it-ca");
    caFile = ca.writeCa(dir.resolve("ca.crt"));
    TestPki.Leaf leaf = ca.issue("arbor", dir, "server");
    byte[] salt = new byte[16];
    new SecureRandom().nextBytes(salt);
    String writerHash = OpenBSDBCrypt.generate("2b", "wr1ter".toCharArray(), salt, 6);
    users = writeUsers("""
        users:
          - {username: admin, password: adm1n, role: admin}
          - {username: writer, password_hash: "%s", role: write}
          - {username: reader, password: r3ader, role: read}
        """.formatted(writerHash));
    server = ArborProcess.launchStandalone("secure", ArborProcess.newDataDir("secure"),
        "--tls-cert-file", leaf.certFile().toString(), "--tls-key-file", leaf.keyFile().toString(),
        "--auth-config-file", users.toString(), "--security-reload-interval", "300ms");
    // /health is HTTPS now, so readiness is the start line (printed once both ports are bound).
    server.awaitOutput("Arbor standalone serving", ArborProcess.STARTUP_TIMEOUT);
  }

  @AfterAll
  void stop() {
    if (server != null) {
      server.stop();
    }
  }

  private Path writeUsers(String yaml) throws Exception {
    Path file = dir.resolve("users.yaml");
    Path tmp = dir.resolve("users.yaml.tmp");
    Files.writeString(tmp, yaml, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return file;
  }

  private BanyanDBClient client(boolean tls, String user, String password) throws Exception {
    Options o = new Options();
    if (tls) {
      o.setForceTLS(true);
      o.setSslTrustCAPath(caFile.toString());
    }
    if (user != null) {
      o.setUsername(user);
      o.setPassword(password);
    }
    BanyanDBClient c = new BanyanDBClient(new String[] {server.grpcTarget()}, o);
    c.connect();
    return c;
  }

  private static Status.Code code(ThrowingCall call) {
    try {
      call.run();
      return Status.Code.OK;
    } catch (BanyanDBException e) {
      return e.getStatus();
    } catch (Exception e) {
      throw new AssertionError("unexpected " + e, e);
    }
  }

  interface ThrowingCall {
    void run() throws Exception;
  }

  @Test
  void officialClientRunsTheWorkflowOverTlsWithEachRoleHeldToItsCalls() throws Exception {
    try (BanyanDBClient admin = client(true, "admin", "adm1n");
        BanyanDBClient writer = client(true, "writer", "wr1ter");
        BanyanDBClient reader = client(true, "reader", "r3ader")) {
      assertThat(admin.getAPIVersion().getVersion()).isEqualTo("0.9");
      admin.define(propertyGroup(G, 2));
      admin.define(schema(G, "svc", "service", TagType.TAG_TYPE_STRING, "layer", TagType.TAG_TYPE_STRING));

      assertThat(writer.apply(property(G, "svc", "a", str("service", "checkout"), str("layer", "web")))
          .getCreated()).isTrue();
      List<BanyandbProperty.Property> got = byIds(reader, G, "svc", List.of("a"));
      assertThat(got).hasSize(1);
      assertThat(got.get(0).getTagsList()).anySatisfy(t -> assertThat(t.getValue().getStr().getValue())
          .isEqualTo("checkout"));

      assertThat(code(() -> reader.apply(property(G, "svc", "b", str("service", "x")))))
          .isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(code(() -> writer.define(propertyGroup("sec_other", 1)))).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(code(() -> reader.deleteProperty(G, "svc", "a"))).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(writer.deleteProperty(G, "svc", "a").getDeleted()).isTrue();
      assertThat(byIds(reader, G, "svc", List.of("a"))).isEmpty();
    }
  }

  @Test
  void wrongOrMissingCredentialsAndPlaintextClientsAreRefused() throws Exception {
    try (BanyanDBClient wrong = client(true, "admin", "nope");
        BanyanDBClient anonymous = client(true, null, null)) {
      assertThat(code(wrong::getAPIVersion)).isEqualTo(Status.Code.UNAUTHENTICATED);
      assertThat(code(anonymous::getAPIVersion)).isEqualTo(Status.Code.UNAUTHENTICATED);
    }
    try (BanyanDBClient plaintext = client(false, "admin", "adm1n")) {
      assertThat(code(plaintext::getAPIVersion)).isEqualTo(Status.Code.UNAVAILABLE);
    } catch (BanyanDBException e) {
      // connect() itself may already fail: then that is the refusal.
      assertThat(e.getStatus()).isEqualTo(Status.Code.UNAVAILABLE);
    }
  }

  @Test
  void httpPortIsHttpsAndMetricsNeedCredentials() throws Exception {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    try (var in = Files.newInputStream(caFile)) {
      ks.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    HttpClient http = HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
    String base = "https://localhost:" + server.httpPort();
    assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(200);
    assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
        HttpResponse.BodyHandlers.discarding()).statusCode()).isEqualTo(401);
    String basic = java.util.Base64.getEncoder().encodeToString("reader:r3ader".getBytes(StandardCharsets.UTF_8));
    HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics"))
        .header("Authorization", "Basic " + basic).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).contains("arbor_grpc");
  }

  @Test
  void editedUsersFileIsTakenWithoutRestart() throws Exception {
    try (BanyanDBClient late = client(true, "late", "l4te")) {
      assertThat(code(late::getAPIVersion)).isEqualTo(Status.Code.UNAUTHENTICATED);
      String current = Files.readString(users);
      writeUsers(current + "  - {username: late, password: l4te, role: read}\n");
      Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
          .until(() -> code(late::getAPIVersion) == Status.Code.OK);
    }
  }
}
