package dev.arbor.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The internal listener's options: refused combinations are one line, before anything starts. */
class InternalListenerOptionsTest {
  @TempDir Path tmp;

  private static CliRun run(String... args) {
    return CliRun.arbor(args);
  }

  @Test
  void aPlaintextInternalListenerOnANonLoopbackAddressIsRefusedInOneLine() {
    // An etcd nobody listens on: the refusal comes before the connection.
    CliRun r = run("data", "--node-id", "d", "--data-dir", tmp.toString(), "--metadata", "etcd://127.0.0.1:1",
        "--grpc-host", "0.0.0.0");
    assertThat(r.exit()).isNotZero();
    assertThat(r.err().lines().filter(l -> !l.isBlank()).toList()).singleElement().asString()
        .contains("0.0.0.0:17914", "--internal-tls-cert-file", "--internal-host 127.0.0.1", "--insecure-internal")
        .doesNotContain("Exception");
  }

  @Test
  void theInternalTlsFilesGoTogether() {
    CliRun r = run("data", "--node-id", "d", "--data-dir", tmp.toString(), "--metadata", "etcd://127.0.0.1:1",
        "--internal-tls-cert-file", tmp.resolve("n.crt").toString());
    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains("--internal-tls-cert-file, --internal-tls-key-file and --internal-tls-ca-file go together");
    CliRun liaison = run("liaison", "--metadata", "etcd://127.0.0.1:1", "--internal-tls-ca-file",
        tmp.resolve("ca.crt").toString());
    assertThat(liaison.exit()).isNotZero();
    assertThat(liaison.err()).contains("go together");
  }

  @Test
  void helpDocumentsTheNewOptions() {
    assertThat(run("data", "--help").out()).contains("--internal-host", "--internal-port", "17914",
        "--insecure-internal", "--internal-tls-cert-file", "--internal-tls-key-file", "--internal-tls-ca-file",
        "--tls-cert-file", "--auth-config-file");
    assertThat(run("liaison", "--help").out()).contains("--node-id", "--internal-tls-cert-file",
        "--internal-tls-ca-file");
  }
}
