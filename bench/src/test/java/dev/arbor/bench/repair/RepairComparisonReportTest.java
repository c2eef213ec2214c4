package dev.arbor.bench.repair;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.bench.MachineInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The comparison's tables and the doc section written from them, from made-up results. */
class RepairComparisonReportTest {

  @TempDir Path tmp;

  private static RepairScenarioResult result(String scenario, long diverged, double wallMillis,
      long bytes, double cpuSeconds) {
    return new RepairScenarioResult(scenario, "desc", 100_000, 2048, 2, 3, "rb_" + scenario,
        List.of("d1", "d2"), "d2", "d1", "public", 1000, 100_000, 0, diverged, diverged,
        diverged * 2100, diverged > 0, 100, 100, wallMillis, 1, 1, 1, 0, bytes, 100, 0, 0, diverged,
        0, Map.of("d1", cpuSeconds / 2, "d2", cpuSeconds / 2, "d3", 0.0),
        Map.of("d1", cpuSeconds, "d2", cpuSeconds, "d3", 0.0),
        Map.of("d1", 300L << 20, "d2", 200L << 20, "d3", 100L << 20),
        Map.of("d1", 1L << 20), Map.of("d1", 1L << 20), Map.of("d1", 1L << 20), "repair", true,
        0, 10, List.of("COMPLETED"), List.of(), List.of(), List.of(), true, null);
  }

  private static RepairBench.BuildOutcome outcome(String label, double fullMillis, double cpu) {
    return outcome(label, fullMillis, cpu, null);
  }

  private static RepairBench.BuildOutcome outcome(String label, double fullMillis, double cpu,
      String transport) {
    RepairBench.RunInfo info = new RepairBench.RunInfo(Instant.parse("2026-01-01T00:00:00Z"),
        60_000, "./mvnw -B -q -DskipTests package && java -jar bench/target/arbor-bench.jar repair"
        + " --server-jar old=OLD --server-jar new=NEW --update-doc docs/benchmarks.md",
        new MachineInfo(2, "cpu", "8 GiB", "Linux", "Java 17", "(JVM defaults)", "abc123"),
        label + "/arbor.jar", null, List.of("-Xmx1g"), List.of("-Xmx1g"), 3, 2, 64, "public",
        2000, 3, 5000, false, null, false, transport);
    return new RepairBench.BuildOutcome(label, info, List.of(
        result("full", 100_000, fullMillis, 210_000_000, cpu),
        result("same", 0, 20, 5_000, 0.01)));
  }

  @Test
  void figuresHaveARowPerScenarioAColumnPerBuildAndTheRatio() {
    String md = RepairComparisonReport.figures(List.of(outcome("old", 4000, 8),
        outcome("new", 1000, 4)));
    assertThat(md).contains("**repair wall time, ms (request → last round outcome)** (lower is"
        + " better: a ratio below 1 favours the later build)");
    assertThat(md).contains("| scenario | properties | old | new | new/old |");
    assertThat(md).contains("| full | 100,000 × 2048 B | 4,000.0 | 1,000.0 | 0.25 |");
    assertThat(md).contains("| full | 100,000 × 2048 B | 8.000 | 4.000 | 0.50 |");
    // Nothing repaired in `same`: no CPU per repaired property, so no ratio either.
    assertThat(md).contains("| same | 100,000 × 2048 B | – | – | – |");
    assertThat(md).contains("| full | 100,000 × 2048 B | 300 | 300 | 1.00 |");
    assertThat(md).contains("| full | 100,000 × 2048 B | 100,000 → 100,000, 1 round, converged"
        + " | 100,000 → 100,000, 1 round, converged |");
  }

  @Test
  void theDocSectionKeepsItsAnalysisAndTheRestOfTheFile() throws Exception {
    Path doc = tmp.resolve("benchmarks.md");
    Files.writeString(doc, "# B\n\nbefore\n\n" + RepairReport.START + "\nold figures\n"
        + RepairReport.ANALYSIS_START + "\nWhat it means.\n" + RepairReport.ANALYSIS_END + "\n"
        + RepairReport.END + "\n\nafter\n");
    List<RepairBench.BuildOutcome> outcomes = List.of(outcome("old", 4000, 8),
        outcome("new", 1000, 4));
    RepairReport.updateDoc(doc, analysis -> RepairComparisonReport.markdown(outcomes, analysis));
    String md = Files.readString(doc);
    assertThat(md).startsWith("# B\n\nbefore\n\n" + RepairReport.START
        + "\n## Repair scenarios on a real cluster (issue 6): old vs new\n");
    assertThat(md).doesNotContain("old figures")
        .contains("| build `old` | `old/arbor.jar`; cluster ready 5.0 s after launch |")
        .contains("| target | old | new |")
        .contains("| full ≤ 2 s | 4000.0 ms: **missed** | 1000.0 ms: **met** |")
        .contains("| full | 100,000 × 2048 B | 4,000.0 | 1,000.0 | 0.25 |")
        .contains("<details><summary>old:")
        .contains(RepairReport.ANALYSIS_START + "\nWhat it means.\n" + RepairReport.ANALYSIS_END)
        .endsWith(RepairReport.END + "\n\nafter\n");
  }

  @Test
  void aRunComparingTlsSaysWhichBuildRanWithTls() {
    List<RepairBench.BuildOutcome> outcomes = List.of(
        outcome("plain", 1000, 4, RepairBench.PLAIN_TRANSPORT),
        outcome("tls", 1100, 4.4, RepairBench.TLS_TRANSPORT));
    assertThat(RepairComparisonReport.markdown(outcomes, null))
        .contains("| build `plain` | `plain/arbor.jar`; plaintext; cluster ready 5.0 s after launch |")
        .contains("| build `tls` | `tls/arbor.jar`; " + RepairBench.TLS_TRANSPORT
            + "; cluster ready 5.0 s after launch |");
  }
}
