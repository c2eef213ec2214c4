package dev.arbor.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The API benchmark's summary when it ran several deployments ({@code --deployment
 * standalone,dev-cluster,processes}): per build, the cluster figures that issue 15 sets targets
 * for, each cluster's value beside standalone's of the same build and run, and their ratio.
 * Apply with consistency `all` is compared with standalone's plain apply (a single copy has no
 * consistency level); the disagreeing by-id walk with the agreeing one on the same cluster.
 */
final class DeploymentReport {
  static final double TARGET_APPLY_SHARE = 0.40;
  static final double TARGET_APPLY_P99_MS = 30;
  static final double TARGET_APPLY_ALL_SHARE = 0.35;
  static final double TARGET_BY_ID_SHARE = 0.60;
  static final double TARGET_DISAGREE_SLOWDOWN = 1.5;

  private final List<Report> reports;
  private final int disagreeEvery;

  DeploymentReport(List<Report> reports, int disagreeEvery) {
    this.reports = List.copyOf(reports);
    this.disagreeEvery = disagreeEvery;
  }

  String toMarkdown() {
    StringBuilder b = new StringBuilder();
    b.append("## Cluster vs standalone (issue 15)\n\n");
    Report any = reports.get(0);
    b.append(String.format(Locale.ROOT, "Written by `dev.arbor.bench.ApiBenchmark --deployment …`;"
        + " each build's clusters against the same build's standalone server, measured in the same"
        + " run (every step on each target in turn). Groups on a cluster have %d copies, applies"
        + " use the liaison's default write consistency (`one`) unless the row says `all` (header"
        + " `arbor-write-consistency: all`). The in-order by-id walks query `q-0, q-1, …` round"
        + " and round; in the disagreeing one, one loaded key in %d has a newer version on one"
        + " replica only (written there through the internal `DataNodeService.Write`), made to"
        + " disagree again each half pass because the liaison's read repair heals it. CPU of a"
        + " cluster of processes is summed over etcd, the data nodes and the liaison; that cluster"
        + " is never paused (etcd leases), the others are paused while not measured.%s%n%n",
        reports.stream().filter(r -> r.deployment.cluster()).mapToInt(r -> r.copies).findFirst()
            .orElse(2), disagreeEvery,
        any.quick ? " **Quick run: a smoke check, not a measurement.**" : ""));
    Map<String, List<Report>> byBuild = new LinkedHashMap<>();
    for (Report r : reports) {
      byBuild.computeIfAbsent(r.build, k -> new ArrayList<>()).add(r);
    }
    for (Map.Entry<String, List<Report>> e : byBuild.entrySet()) {
      appendBuild(b, e.getKey(), e.getValue());
    }
    return b.toString();
  }

  private void appendBuild(StringBuilder b, String build, List<Report> targets) {
    Report standalone = targets.stream().filter(r -> r.deployment == Deployment.STANDALONE)
        .findFirst().orElse(null);
    List<Report> clusters = targets.stream().filter(r -> r.deployment.cluster()).toList();
    b.append("### build `").append(build).append("`\n\n| figure |");
    targets.forEach(r -> b.append(' ').append(r.deployment.label()).append(" |"));
    clusters.forEach(c -> b.append(' ').append(c.deployment.label()).append(" / standalone |"));
    b.append(" target |\n|---|");
    b.append("---:|".repeat(targets.size() + clusters.size())).append("---|\n");

    int applyAt = maxClients(targets, r -> r.apply);
    int queryAt = maxQueryClients(targets, "by id");
    row(b, String.format(Locale.ROOT, "apply, %d clients, ops/s", applyAt), targets, clusters,
        standalone, r -> ops(find(r.apply, null, applyAt)), TARGET_APPLY_SHARE);
    b.append(String.format(Locale.ROOT, "| apply, %d clients, p99 ms |", applyAt));
    for (Report r : targets) {
      b.append(' ').append(p99(find(r.apply, null, applyAt))).append(" |");
    }
    for (Report c : clusters) {
      double p = p99Ms(find(c.apply, null, applyAt));
      b.append(' ').append(Double.isNaN(p) ? "–" : Report.verdict(true, p <= TARGET_APPLY_P99_MS))
          .append(" |");
    }
    b.append(" cluster p99 ≤ ").append(Report.num(TARGET_APPLY_P99_MS)).append(" ms |\n");
    row(b, String.format(Locale.ROOT, "apply, consistency all, %d clients, ops/s (standalone:"
        + " plain apply)", applyAt), targets, clusters, standalone,
        r -> r.deployment.cluster()
            ? ops(find(r.deploymentRows, ApiBenchmark.APPLY_ALL, applyAt))
            : ops(find(r.apply, null, applyAt)), TARGET_APPLY_ALL_SHARE);
    row(b, String.format(Locale.ROOT, "query by id (random ids), %d clients, ops/s", queryAt),
        targets, clusters, standalone, r -> ops(find(r.query, "by id", queryAt)),
        TARGET_BY_ID_SHARE);
    row(b, String.format(Locale.ROOT, "query by id in order, replicas agree, %d clients, ops/s",
        queryAt), targets, clusters, standalone,
        r -> ops(find(r.deploymentRows, ApiBenchmark.BY_ID_AGREE, queryAt)), Double.NaN);
    b.append(String.format(Locale.ROOT, "| query by id in order, 1 key in %d disagrees, %d clients,"
        + " ops/s (vs agreeing: slowdown) |", disagreeEvery, queryAt));
    for (Report r : targets) {
      if (!r.deployment.cluster()) {
        b.append(" – |");
        continue;
      }
      double agree = ops(find(r.deploymentRows, ApiBenchmark.BY_ID_AGREE, queryAt));
      double dis = ops(find(r.deploymentRows, ApiBenchmark.BY_ID_DISAGREE, queryAt));
      b.append(' ').append(opsText(dis));
      if (!Double.isNaN(agree) && !Double.isNaN(dis) && dis > 0) {
        double slowdown = agree / dis;
        b.append(String.format(Locale.ROOT, " (%.2f× %s)", slowdown,
            Report.verdict(true, slowdown <= TARGET_DISAGREE_SLOWDOWN)));
      }
      b.append(" |");
    }
    clusters.forEach(c -> b.append(" |"));
    b.append(" ≤ ").append(Report.num(TARGET_DISAGREE_SLOWDOWN)).append("× the agreeing walk |\n");
    b.append('\n');
    for (Report c : clusters) {
      Row dis = find(c.deploymentRows, ApiBenchmark.BY_ID_DISAGREE, queryAt);
      if (dis != null && dis.window != null) {
        b.append(String.format(Locale.ROOT, "`%s`: %,d keys were made to disagree in all during the"
            + " disagreeing walk, and the liaison queued %s read repairs meanwhile (the walk's p99"
            + " %s ms, agreeing %s ms).%n", c.label, c.diverged,
            c.readRepairs < 0 ? "an unknown number of" : String.format(Locale.ROOT, "%,d", c.readRepairs),
            p99(dis), p99(find(c.deploymentRows, ApiBenchmark.BY_ID_AGREE, queryAt))));
      }
    }
    b.append('\n');
  }

  private static void row(StringBuilder b, String figure, List<Report> targets,
      List<Report> clusters, Report standalone, Function<Report, Double> value, double target) {
    b.append("| ").append(figure).append(" |");
    for (Report r : targets) {
      b.append(' ').append(opsText(value.apply(r))).append(" |");
    }
    double base = standalone == null ? Double.NaN : value.apply(standalone);
    for (Report c : clusters) {
      double v = value.apply(c);
      if (Double.isNaN(v) || Double.isNaN(base) || base <= 0) {
        b.append(" – |");
      } else {
        double ratio = v / base;
        b.append(String.format(Locale.ROOT, " %.2f%s |", ratio, Double.isNaN(target) ? ""
            : " " + Report.verdict(true, ratio >= target)));
      }
    }
    b.append(Double.isNaN(target) ? " – |" : String.format(Locale.ROOT, " ≥ %.2f |", target))
        .append('\n');
  }

  private static int maxClients(List<Report> targets, Function<Report, List<Row>> rows) {
    return targets.stream().flatMap(r -> rows.apply(r).stream()).mapToInt(r -> r.clients).max()
        .orElse(0);
  }

  private static int maxQueryClients(List<Report> targets, String name) {
    return targets.stream().flatMap(r -> r.query.stream()).filter(r -> r.name.equals(name))
        .mapToInt(r -> r.clients).max().orElse(0);
  }

  /** The measured row named {@code name} (any name when null) with {@code clients}; null if none. */
  private static Row find(List<Row> rows, String name, int clients) {
    return rows.stream().filter(r -> (name == null || r.name.equals(name)) && r.clients == clients
        && r.ok()).findFirst().orElse(null);
  }

  private static double ops(Row r) {
    return r == null ? Double.NaN : r.window.opsPerSecond();
  }

  private static double p99Ms(Row r) {
    return r == null ? Double.NaN : r.percentileNanos(99) / 1e6;
  }

  private static String p99(Row r) {
    return r == null ? "–" : Row.ms(r.percentileNanos(99));
  }

  private static String opsText(double v) {
    return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%,.0f", v);
  }
}
