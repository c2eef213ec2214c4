package dev.arbor.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reply budget and fan-out bounds are in --help of the roles they apply to, and checked. */
class BoundsOptionsTest {
  @TempDir Path tmp;

  private static CliRun run(String... args) {
    return CliRun.arbor(args);
  }

  @Test
  void helpListsTheFlagsWithTheirDefaults() {
    assertThat(run("data", "--help").out()).contains("--max-response-bytes", "16777216");
    assertThat(run("liaison", "--help").out()).contains("--replica-call-threads", "256", "--replica-call-queue", "4096");
    assertThat(run("dev-cluster", "--help").out())
        .contains("--max-response-bytes", "--replica-call-threads", "--replica-call-queue");
  }

  @Test
  void valuesOutOfRangeAreRefusedBeforeAnythingStarts() {
    // An etcd nobody listens on: the checks come before the connection.
    CliRun data = run("data", "--node-id", "d", "--data-dir", tmp.toString(), "--metadata", "etcd://127.0.0.1:1",
        "--max-response-bytes", String.valueOf(64 << 20));
    assertThat(data.exit()).isNotZero();
    assertThat(data.err()).contains("--max-response-bytes must be between 1 and " + (32 << 20));
    CliRun liaison = run("liaison", "--metadata", "etcd://127.0.0.1:1", "--replica-call-threads", "0");
    assertThat(liaison.exit()).isNotZero();
    assertThat(liaison.err()).contains("--replica-call-threads must be >= 1");
  }
}
