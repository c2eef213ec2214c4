package dev.arbor.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The comparison's tables and its place in docs/benchmarks.md, from made-up figures. */
class ApiComparisonReportTest {

  @TempDir Path tmp;

  private static Row row(String name, int clients, double opsPerSecond, long p99Micros) {
    Histogram h = new Histogram(3);
    for (int i = 0; i < 99; i++) {
      h.recordValue(1_000_000);
    }
    h.recordValue(p99Micros * 1000);
    Row r = new Row(name, clients);
    long ops = (long) (opsPerSecond * 10);
    r.window = new ClosedLoop.Window(h, ops, 0, 0, 10,
        new CpuSample.Delta(10, 0.2, 1.5, 15_000_000_000L, 0.1), null);
    return r;
  }

  private static Report report(String label, double ops64, double byIdOps) {
    Report r = new Report();
    r.label = label;
    r.started = Instant.parse("2026-01-01T00:00:00Z");
    r.finished = Instant.parse("2026-01-01T00:05:00Z");
    r.command = "./mvnw -B -q -DskipTests package && java -jar bench/target/arbor-bench.jar api"
        + " --server-jar old=OLD --server-jar new=NEW --ceiling";
    r.machine = new MachineInfo(2, "cpu", "8 GiB", "Linux", "Java 17", "(JVM defaults)", "abc123");
    r.serverCommand = "java -jar " + label + ".jar standalone";
    r.payloadBytes = 2048;
    r.shards = 2;
    r.channels = 4;
    r.kinds = 16;
    r.zones = 8;
    r.criteriaLimit = 10;
    r.warmup = 5;
    r.measure = 15;
    r.apply.add(row("apply", 64, ops64, 20_000));
    r.query.add(row("by id", 1, byIdOps, 1_500));
    return r;
  }

  @Test
  void tablesHaveAColumnPerBuildTheRatioAndTheShareOfTheCeiling() throws Exception {
    Report old = report("old", 8_000, 2_000);
    Report neu = report("new", 12_000, 3_000);
    Report ceiling = report("ceiling", 20_000, 0);
    ceiling.query.clear();
    String md = new ApiComparisonReport(java.util.List.of(old, neu), ceiling, true, null)
        .toMarkdown();

    assertThat(md).startsWith("## gRPC API benchmark (standalone server): old vs new, with the"
        + " no-storage gRPC ceiling\n");
    assertThat(md).contains("| command | `./mvnw -B -q -DskipTests package && java -jar"
        + " bench/target/arbor-bench.jar api --server-jar old=OLD --server-jar new=NEW"
        + " --ceiling` (from the repository root) |");
    assertThat(md).contains("| clients | old | new | new/old | ceiling | old % of ceiling"
        + " | new % of ceiling |\n|---|---:|---:|---:|---:|---:|---:|\n"
        + "| 64 | 8,000 | 12,000 | 1.50 | 20,000 | 40 % | 60 % |\n");
    assertThat(md).contains("| apply with 64 clients ≥ 80 % of the no-storage gRPC ceiling"
        + " (20,000 ops/s) | 40 % **missed** | 60 % **missed** |");
    assertThat(md).contains("| by id | 1 | 2,000 | 3,000 | 1.50 |");
    assertThat(md).contains("paused (SIGSTOP)");
    assertThat(md).contains("<details><summary>old:").contains("<details><summary>new:");

    Path doc = tmp.resolve("benchmarks.md");
    Files.writeString(doc, "# B\n\n<!-- api-bench:start -->\nold\n<!-- api-bench:end -->\n\n"
        + "<!-- repair-bench:start -->\nkept\n<!-- repair-bench:end -->\n");
    BenchDoc.writeSection(doc, md);
    String written = Files.readString(doc);
    assertThat(written).startsWith("# B\n\n<!-- api-bench:start -->\n## gRPC API benchmark")
        .contains("| 64 | 8,000 | 12,000 | 1.50 |")
        .endsWith("<!-- api-bench:end -->\n\n<!-- repair-bench:start -->\nkept\n"
            + "<!-- repair-bench:end -->\n")
        .doesNotContain("\nold\n");
  }

  @Test
  void aRunComparingTlsSaysWhichBuildRanWithTls() {
    Report plain = report("plain", 8_000, 2_000);
    plain.transport = "plaintext";
    Report tls = report("tls", 7_000, 1_800);
    tls.transport = "**TLS** on the public port";
    String md = new ApiComparisonReport(java.util.List.of(plain, tls), null, true, null).toMarkdown();
    assertThat(md).contains("| build `plain` | `java -jar plain.jar standalone`; API version unknown;"
        + " plaintext |");
    assertThat(md).contains("| build `tls` | `java -jar tls.jar standalone`; API version unknown;"
        + " **TLS** on the public port |");
  }
}
