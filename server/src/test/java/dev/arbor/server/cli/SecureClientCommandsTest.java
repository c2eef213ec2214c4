package dev.arbor.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.server.ServerConfig;
import dev.arbor.server.StandaloneServer;
import dev.arbor.transport.HttpAuth;
import dev.arbor.transport.SecurityConfig;
import dev.arbor.transport.ServerTls;
import dev.arbor.transport.TestPki;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Client commands against a standalone with TLS and users: the TLS and credential flags, and their errors. */
class SecureClientCommandsTest {
  @TempDir static Path dir;
  private static StandaloneServer server;
  private static Path caFile;
  private static Path adminPassword;
  private static Path readerPassword;

  @BeforeAll
  static void start() throws IOException {
    TestPki ca = TestPki.newCa("cli-ca");
    caFile = ca.writeCa(dir.resolve("ca.crt"));
    TestPki.Leaf leaf = ca.issue("arbor", dir, "server");
    Path users = dir.resolve("users.yaml");
    Files.writeString(users, """
        users:
          - {username: admin, password: adm1n, role: admin}
          - {username: reader, password: r3ad, role: read}
        """, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(users, PosixFilePermissions.fromString("rw-------"));
    adminPassword = Files.writeString(dir.resolve("admin.pw"), "adm1n\n");
    readerPassword = Files.writeString(dir.resolve("reader.pw"), "r3ad\n");
    server = StandaloneServer.start(ServerConfig.defaults(dir.resolve("data")).withHost("127.0.0.1").withPorts(0, 0),
        new SecurityConfig(new ServerTls(leaf.certFile(), leaf.keyFile(), null, Duration.ofSeconds(10)), users,
            HttpAuth.PROTECTED, Duration.ofSeconds(10)));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static CliRun run(String... args) {
    List<String> full = new ArrayList<>(List.of(args));
    full.add("--target");
    full.add("localhost:" + server.grpcPort());
    return CliRun.arbor(full.toArray(String[]::new));
  }

  @Test
  void adminCreatesAndReaderListsOverTls() {
    CliRun created = run("group", "create", "--name", "secure-g", "--shards", "1", "--replicas", "1",
        "--tls-ca-file", caFile.toString(), "--user", "admin", "--password-file", adminPassword.toString());
    assertThat(created.exit()).as(created.err()).isZero();

    CliRun listed = run("group", "list", "--tls-ca-file", caFile.toString(), "--user", "reader",
        "--password-file", readerPassword.toString());
    assertThat(listed.exit()).as(listed.err()).isZero();
    assertThat(listed.out()).contains("secure-g");

    CliRun denied = run("group", "delete", "--name", "secure-g", "--tls-ca-file", caFile.toString(),
        "--user", "reader", "--password-file", readerPassword.toString());
    assertThat(denied.exit()).isEqualTo(1);
    assertThat(denied.err()).startsWith("error: PERMISSION_DENIED").contains("needs admin");
    assertThat(denied.err().strip()).doesNotContain("\n");
  }

  @Test
  void missingCredentialsAndMissingTlsGiveOneLineErrors() {
    CliRun anonymous = run("group", "list", "--tls-ca-file", caFile.toString());
    assertThat(anonymous.exit()).isEqualTo(1);
    assertThat(anonymous.err()).startsWith("error: UNAUTHENTICATED");

    CliRun plaintext = run("group", "list", "--user", "admin", "--password-file", adminPassword.toString());
    assertThat(plaintext.exit()).isEqualTo(1);
    assertThat(plaintext.err()).startsWith("error: UNAVAILABLE: cannot reach").contains("--tls-ca-file");
    assertThat(plaintext.err().strip()).doesNotContain("\n");

    Path otherCa;
    try {
      otherCa = TestPki.newCa("other-ca").writeCa(dir.resolve("other-ca.crt"));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    CliRun untrusted = run("group", "list", "--tls-ca-file", otherCa.toString(), "--user", "admin",
        "--password-file", adminPassword.toString());
    assertThat(untrusted.exit()).isEqualTo(1);
    assertThat(untrusted.err()).startsWith("error: UNAVAILABLE: cannot reach").contains("TLS handshake failed");
    assertThat(untrusted.err().strip()).doesNotContain("\n");
  }

  @Test
  void userWithoutAPasswordSourceIsRefusedBeforeConnecting() {
    // The test JVM has no ARBOR_PASSWORD; the flag value itself is never accepted as a password.
    CliRun r = run("group", "list", "--tls-ca-file", caFile.toString(), "--user", "admin");
    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains("--password-file").contains(ClientOptions.PASSWORD_ENV);
  }
}
