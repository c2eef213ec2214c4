package dev.arbor.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.arbor.cluster.DataNode;
import dev.arbor.observability.trace.RepairSpan;
import dev.arbor.observability.trace.TraceNode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code arbor repair traces} run in-process against two real gRPC trace servers (each with its
 * own on-disk span store), asserting on what a user sees: stdout, stderr and the exit code.
 */
class RepairTracesCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private final List<DataNode> cluster = new CopyOnWriteArrayList<>();
  private TraceNode n1;
  private TraceNode n2;
  private long t0;

  @BeforeEach
  void startNodes() throws IOException {
    n1 = new TraceNode("n1", dir, () -> cluster, Duration.ofSeconds(5));
    n2 = new TraceNode("n2", dir, () -> cluster, Duration.ofSeconds(5));
    cluster.add(n1.node());
    cluster.add(n2.node());
    t0 = nanos(Instant.now().minus(Duration.ofMinutes(10)));
    n1.store().record(new RepairSpan("ui_1_n1_1", "n1_1", "", "n1", "propagation from current node",
        t0, t0 + 40_000_000L, false, "", 0, "ui", 1, Map.of("operate_type", "select_node", "group_name", "ui")));
    n2.store().record(new RepairSpan("ui_1_n1_1", "n2_1", "n1_1", "n2", "sync properties",
        t0 + 5_000_000L, t0 + 17_500_000L, true, "n3 UNAVAILABLE", 1, "ui", 1,
        Map.of("target_node", "n3")));
    n2.store().record(new RepairSpan("metrics_0_n2_2", "n2_2", "", "n2", "propagation from current node",
        t0 + 60_000_000L, t0 + 61_000_000L, false, "", 0, "metrics", 0, Map.of()));
  }

  @AfterEach
  void stopNodes() throws InterruptedException {
    n1.close();
    n2.close();
  }

  @Test
  void tableGroupsSpansByTraceAcrossNodes() {
    CliRun r = run("--target", n1.target());

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).hasSize(6);
    assertThat(lines.get(0)).isEqualTo("trace ui_1_n1_1  ui/1  " + Instant.ofEpochSecond(0, t0)
        + "  40.000 ms  nodes n1, n2  error: yes");
    assertThat(lines.get(1)).matches(" +\\+0\\.000 ms +40\\.000 ms  n1  propagation from current node"
        + "  operate_type=select_node");
    assertThat(lines.get(2)).matches(" +\\+5\\.000 ms +12\\.500 ms  n2  sync properties"
        + "  ERROR n3 UNAVAILABLE  target_node=n3");
    assertThat(lines.get(3)).isEmpty();
    assertThat(lines.get(4)).startsWith("trace metrics_0_n2_2  metrics/0  ").endsWith("nodes n2  error: no");
  }

  @Test
  void filtersByGroupAndTrace() {
    assertThat(run("--target", n2.target(), "--group", "metrics").out()).contains("metrics_0_n2_2")
        .doesNotContain("ui_1_n1_1");
    assertThat(run("--target", n2.target(), "--trace", "ui_1_n1_1").out()).contains("ui_1_n1_1")
        .doesNotContain("metrics_0_n2_2");
    assertThat(run("--target", n2.target(), "--since", "1m").out()).startsWith("no repair spans since ");
  }

  @Test
  void jsonPrintsTheResponse() throws IOException {
    CliRun r = run("--target", n1.target(), "--json", "--trace", "ui_1_n1_1");

    assertThat(r.exit()).as(r.err()).isZero();
    JsonNode body = JSON.readTree(r.out());
    assertThat(body.get("spans")).hasSize(2);
    assertThat(body.at("/spans/1/spanId").asText()).isEqualTo("n2_1");
    assertThat(body.at("/spans/1/error").asBoolean()).isTrue();
    assertThat(body.at("/spans/1/startUnixNanos").asLong()).isEqualTo(t0 + 5_000_000L);
    assertThat(body.get("unreachableNodes")).isEmpty();
  }

  @Test
  void unreachableNodesAreNamedOnStderr() throws InterruptedException {
    n2.stopServer();

    CliRun r = run("--target", n1.target());

    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("trace ui_1_n1_1").doesNotContain("n2_1");
    assertThat(r.err()).isEqualTo("warning: no answer from data node(s) n2; their spans are missing\n");
  }

  @Test
  void limitReachedIsAWarning() {
    CliRun r = run("--target", n1.target(), "--limit", "1");
    assertThat(r.exit()).isZero();
    assertThat(r.out().lines().filter(l -> l.startsWith("  "))).hasSize(1);
    assertThat(r.err()).contains("only the first 1 spans are shown");
  }

  @Test
  void unreachableTargetIsOneLineError() throws IOException {
    int freePort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      freePort = s.getLocalPort();
    }
    CliRun r = run("--target", "127.0.0.1:" + freePort);

    assertThat(r.exit()).isEqualTo(CliErrorHandler.EXIT_FAILURE);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("error: UNAVAILABLE: cannot reach 127.0.0.1:" + freePort);
    assertThat(r.err().strip()).doesNotContain("\n");
  }

  @Test
  void badOptionsAreUsageErrors() {
    CliRun since = run("--target", n1.target(), "--since", "yesterday");
    assertThat(since.exit()).isEqualTo(2);
    assertThat(since.err()).contains("--since").contains("is not a duration");

    CliRun limit = run("--target", n1.target(), "--limit", "0");
    assertThat(limit.exit()).isEqualTo(2);
    assertThat(limit.err()).contains("--limit must be in [1, 10000]");
  }

  private static CliRun run(String... args) {
    // The command alone, configured as ArborCli configures every command.
    CommandLine cl = new CommandLine(new RepairTracesCommand());
    cl.setExecutionExceptionHandler(new CliErrorHandler());
    return CliRun.of(cl, args);
  }

  private static long nanos(Instant t) {
    return t.getEpochSecond() * 1_000_000_000L + t.getNano();
  }
}
