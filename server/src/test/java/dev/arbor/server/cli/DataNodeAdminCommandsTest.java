package dev.arbor.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.EmbeddedNodeRegistry;
import dev.arbor.property.HybridClock;
import dev.arbor.server.DataNodeServer;
import dev.arbor.server.RepairConfig;
import dev.arbor.server.ServerConfig;
import dev.arbor.transport.HttpAuth;
import dev.arbor.transport.SecurityConfig;
import dev.arbor.transport.ServerTls;
import dev.arbor.transport.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operator commands reach a data node's admin listener over TLS with an admin user's password. */
class DataNodeAdminCommandsTest {
  @TempDir Path dir;

  private static CliRun run(String... args) {
    return CliRun.arbor(args);
  }

  @Test
  void repairTracesNeedsTlsAndAnAdminUser() throws Exception {
    TestPki ca = TestPki.newCa("admin-ca");
    Path caFile = ca.writeCa(dir.resolve("ca.crt"));
    TestPki.Leaf leaf = ca.issue("n1", dir, "admin");
    Path users = dir.resolve("users.yaml");
    Files.writeString(users, """
        users:
          - {username: ops, password: 0ps, role: admin}
          - {username: reader, password: r3ad, role: read}
        """, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(users, PosixFilePermissions.fromString("rw-------"));
    Path opsPassword = Files.writeString(dir.resolve("ops.pw"), "0ps\n");
    Path readerPassword = Files.writeString(dir.resolve("reader.pw"), "r3ad\n");
    RepairConfig repair = new RepairConfig("off", Duration.ofMinutes(1), Duration.ofMinutes(1), Duration.ofHours(1),
        Duration.ofDays(1));
    try (EmbeddedMetadataStore metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
        DataNodeServer node = DataNodeServer.start("n1", ServerConfig.defaults(dir.resolve("n1"))
                .withHost("127.0.0.1").withPorts(0, 0).withRepair(repair), metadata, new EmbeddedNodeRegistry(),
            "127.0.0.1", Duration.ofMinutes(1), new SecurityConfig(new ServerTls(leaf.certFile(), leaf.keyFile(), null,
                Duration.ofSeconds(10)), users, HttpAuth.PROTECTED, Duration.ofSeconds(10)))) {
      String target = "127.0.0.1:" + node.grpcPort();
      CliRun ok = run("repair", "traces", "--target", target, "--tls-ca-file", caFile.toString(), "--user", "ops",
          "--password-file", opsPassword.toString(), "--json");
      assertThat(ok.exit()).as(ok.err()).isZero();

      CliRun anonymous = run("repair", "traces", "--target", target, "--tls-ca-file", caFile.toString());
      assertThat(anonymous.exit()).isNotZero();
      assertThat(anonymous.err()).contains("UNAUTHENTICATED");

      CliRun reader = run("repair", "traces", "--target", target, "--tls-ca-file", caFile.toString(), "--user", "reader",
          "--password-file", readerPassword.toString());
      assertThat(reader.exit()).isNotZero();
      assertThat(reader.err()).contains("PERMISSION_DENIED", "has role read", "needs admin");
    }
  }
}
