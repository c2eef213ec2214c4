package dev.arbor.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** The cluster-vs-standalone tables, from made-up figures. */
class DeploymentReportTest {

  private static Row row(String name, int clients, double opsPerSecond, long p99Micros) {
    Histogram h = new Histogram(3);
    for (int i = 0; i < 99; i++) {
      h.recordValue(1_000_000);
    }
    h.recordValue(p99Micros * 1000);
    Row r = new Row(name, clients);
    r.window = new ClosedLoop.Window(h, (long) (opsPerSecond * 10), 0, 0, 10,
        new CpuSample.Delta(10, 0.2, 1.5, 15_000_000_000L, 0.1), null);
    return r;
  }

  private static Report report(Deployment d, double apply, double applyAll, double byId,
      double agree, double disagree) {
    Report r = new Report();
    r.build = "new";
    r.label = "new/" + d.label();
    r.deployment = d;
    r.copies = d.cluster() ? 2 : 1;
    r.apply.add(row("apply", 64, apply, 25_000));
    r.query.add(row("by id", 8, byId, 2_000));
    r.deploymentRows.add(row(ApiBenchmark.BY_ID_AGREE, 8, agree, 2_000));
    if (d.cluster()) {
      r.deploymentRows.add(row(ApiBenchmark.APPLY_ALL, 64, applyAll, 40_000));
      r.deploymentRows.add(row(ApiBenchmark.BY_ID_DISAGREE, 8, disagree, 9_000));
      r.diverged = 2_000;
      r.readRepairs = 1_990;
    }
    return r;
  }

  @Test
  void eachClusterIsARatioToTheSameBuildsStandaloneWithTheVerdicts() {
    Report standalone = report(Deployment.STANDALONE, 10_000, 0, 5_000, 6_000, 0);
    Report dev = report(Deployment.DEV_CLUSTER, 4_500, 3_000, 3_500, 3_000, 1_500);
    Report procs = report(Deployment.PROCESSES, 3_000, 4_000, 2_000, 2_000, 1_900);
    String md = new DeploymentReport(List.of(standalone, dev, procs), 100).toMarkdown();

    assertThat(md).contains("| figure | standalone | dev-cluster | processes | dev-cluster / standalone"
        + " | processes / standalone | target |");
    assertThat(md).contains("| apply, 64 clients, ops/s | 10,000 | 4,500 | 3,000 | 0.45 **met** | 0.30 **missed** | ≥ 0.40 |");
    assertThat(md).contains("| apply, 64 clients, p99 ms | 1.00 | 1.00 | 1.00 | **met** | **met** | cluster p99 ≤ 30 ms |");
    assertThat(md).contains("ops/s (standalone: plain apply) | 10,000 | 3,000 | 4,000 | 0.30 **missed** | 0.40 **met** | ≥ 0.35 |");
    assertThat(md).contains("| query by id (random ids), 8 clients, ops/s | 5,000 | 3,500 | 2,000 | 0.70 **met** | 0.40 **missed** | ≥ 0.60 |");
    // Slowdown = agreeing / disagreeing ops/s: 3,000 / 1,500 = 2.00, 2,000 / 1,900 = 1.05.
    assertThat(md).contains("| – | 1,500 (2.00× **missed**) | 1,900 (1.05× **met**) |");
    assertThat(md).contains("`new/dev-cluster`: 2,000 keys were made to disagree in all during the"
        + " disagreeing walk, and the liaison queued 1,990 read repairs meanwhile");
  }
}
