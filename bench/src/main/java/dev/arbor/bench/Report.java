package dev.arbor.bench;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything one run measured on one server, rendered as the markdown section of
 * docs/benchmarks.md (a single build) or as the per-build details of a comparison
 * ({@link ApiComparisonReport}).
 */
final class Report {
  static final double TARGET_APPLY_OPS = 20_000;
  static final int TARGET_APPLY_CLIENTS = 64;
  static final double TARGET_APPLY_P99_MS = 5;
  static final double TARGET_BY_ID_P99_MS = 2;

  /** The build's label ({@code --server-jar LABEL=JAR}), or "ceiling"; "LABEL/deployment" when several deployments run. */
  String label;
  /** The build's own label, without the deployment. */
  String build;
  /** What was started for it ({@code --deployment}): standalone, dev-cluster or processes. */
  Deployment deployment = Deployment.STANDALONE;
  /** Copies of each shard in the benchmark's groups (1 on standalone). */
  int copies = 1;
  Instant started;
  Instant finished;
  String command;
  boolean quick;
  MachineInfo machine;
  String endpoint;
  boolean externalServer;
  String serverJvmOpts;
  String serverCommand;
  Instant serverJarBuilt;
  String apiVersion;
  double serverStartSeconds = -1;
  int shards;
  int payloadBytes;
  long applyIdSpace;
  double warmup;
  double measure;
  double queryWarmup;
  double queryMeasure;
  int channels;
  int kinds;
  int zones;
  int criteriaLimit;

  final List<Row> apply = new ArrayList<>();
  long applyIssued;
  Row load;
  int loadRequested;
  boolean loadCompleted;
  int queryLoaded;
  double jitWarmupSeconds = -1;
  String jitWarmupNotes;
  CpuSample.Delta settle;
  final List<Row> query = new ArrayList<>();
  /**
   * The figures that compare deployments (only when a cluster deployment runs): apply with
   * consistency `all`, by-id queries walking the ids in order with every replica agreeing, and the
   * same with one key in {@code --disagree-every} differing between replicas.
   */
  final List<Row> deploymentRows = new ArrayList<>();
  /** Keys made to disagree between replicas during the disagreeing scenario (each time again). */
  long diverged = -1;
  /** Read repairs the liaison queued during the disagreeing scenario; -1 when unknown. */
  long readRepairs = -1;

  Boolean serverAliveAtEnd;
  long serverRssBytes = -1;
  long dataBytes = -1;
  String fatal;

  String toMarkdown() {
    StringBuilder b = new StringBuilder();
    b.append("## gRPC API benchmark (standalone server)\n\n");
    b.append("Written by `dev.arbor.bench.ApiBenchmark` (`bench/`); re-running it replaces this"
        + " section.")
        .append(quick ? " **Quick run (`--quick`): tiny sizes, a smoke check, not a measurement.**"
            : "")
        .append("\n\n");
    b.append("| | |\n|---|---|\n");
    b.append("| command | `").append(command).append("` (from the repository root) |\n");
    b.append("| date | ").append(started.truncatedTo(ChronoUnit.SECONDS)).append(" (run took ")
        .append(minutes(Duration.between(started, finished))).append(") |\n");
    b.append("| commit | ").append(machine.commit()).append(" |\n");
    b.append("| machine | `nproc` = ").append(machine.nproc()).append(", ")
        .append(machine.cpuModel()).append(", ").append(machine.ram()).append(" RAM, ")
        .append(machine.os()).append(" |\n");
    b.append("| Java | ").append(machine.java()).append(", the same JVM for client and server |\n");
    b.append("| server | `").append(serverCommand).append("`; JVM flags `").append(serverJvmOpts)
        .append("`; API version ").append(apiVersion == null ? "unknown" : apiVersion);
    if (serverJarBuilt != null) {
      b.append("; jar built ").append(serverJarBuilt.truncatedTo(ChronoUnit.SECONDS));
    }
    if (serverStartSeconds >= 0) {
      b.append(String.format("; healthy %.1f s after launch", serverStartSeconds));
    }
    b.append(" |\n");
    b.append("| client | one JVM (flags: ").append(machine.clientJvmArgs())
        .append("); closed loop: N virtual clients, each with exactly one outstanding async unary"
            + " call, over ").append(channels).append(" HTTP/2 connections; latency from issue to"
            + " response, HdrHistogram (3 significant digits) |\n");
    b.append("| data | a group for the apply levels and one for the queries, CATALOG_PROPERTY, shard_num ").append(shards)
        .append("; a property has 4 tags: `data` STRING (").append(payloadBytes)
        .append(" random chars), `ts` INT, `kind` STRING (").append(kinds)
        .append(" values), `zone` STRING (").append(zones)
        .append(" values); applies send STRATEGY_MERGE like the official client |\n");
    if (jitWarmupSeconds >= 0) {
      b.append(String.format("| JIT warm-up | before any measurement, %.0f s of applies (windows repeated until two agree"
          + " within 10 %%) and of each query kind with 8 clients in a third group (%s) |%n", jitWarmupSeconds,
          jitWarmupNotes));
    }
    b.append('\n');
    b.append("> Figures are the percentiles of **one run** on a **noisy 2-core machine**, with the"
        + " client and the server on the **same cores** (the client's own CPU use is shown: it"
        + " competes with the server; *other CPU* is what the rest of the machine used meanwhile,"
        + " e.g. other builds and tests). They are not medians of several runs. Latencies are"
        + " closed-loop: a slow response delays that client's next request, so they are not"
        + " corrected for coordinated omission."
        + (externalServer ? " With an external server (`--target`) the server's CPU is unknown and"
            + " counted in *other CPU*." : "") + "\n\n");
    if (fatal != null) {
      b.append("**The run failed:** `").append(fatal.replace('`', '\'')).append("`\n\n");
    }
    if (Boolean.FALSE.equals(serverAliveAtEnd)) {
      b.append("**The server process had exited by the end of the run.**\n\n");
    }

    appendTargets(b);
    appendSections(b, "###");
    return b.toString();
  }

  /**
   * The apply table, the load, the query table and the first errors, under headings of the given
   * level ({@code ###} in a section of their own).
   */
  void appendSections(StringBuilder b, String heading) {
    b.append(String.format(heading + " Apply: ~%s property per request (%s s warm-up, %s s measured per"
            + " level)%n%n", kb(payloadBytes), num(warmup), num(measure)));
    b.append(applyIdSpace > 0
        ? "Ids cycle over " + applyIdSpace + " ids: after the first " + applyIdSpace
            + " applies, each apply replaces an existing property.\n\n"
        : "Every apply creates a new id; the apply group holds " + String.format("%,d", applyIssued)
            + " properties at the end.\n\n");
    b.append("| clients | ops/s | p50 ms | p99 ms | p99.9 ms | max ms | errors "
        + "| server CPU (cores) | server CPU µs/op | client CPU (cores) | other CPU (cores) |\n");
    b.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (Row r : apply) {
      if (!r.ok()) {
        b.append("| ").append(r.clients).append(" | failed: ").append(failure(r))
            .append(" | | | | | | | | | |\n");
        continue;
      }
      ClosedLoop.Window w = r.window;
      b.append(String.format("| %d | %,.0f | %s | %s | %s | %s | %d | %s | %s | %s | %s |%n",
          r.clients, w.opsPerSecond(), Row.ms(r.percentileNanos(50)),
          Row.ms(r.percentileNanos(99)), Row.ms(r.percentileNanos(99.9)),
          Row.ms(w.latencies().getMaxValue()), w.errors(), Row.cores(w.cpu().serverCores()),
          cpuPerOp(w), Row.cores(w.cpu().clientCores()), Row.cores(w.cpu().otherCores())));
    }
    b.append('\n');

    if (load != null && load.window != null) {
      ClosedLoop.Window w = load.window;
      b.append(heading).append(" Load before the queries\n\n");
      b.append(String.format("%,d of %,d properties applied by %d clients in %.1f s: %,.0f ops/s,"
              + " p50 %s ms, p99 %s ms, %d errors%s; server CPU %s cores.",
          w.ops(), loadRequested, load.clients, w.seconds(), w.opsPerSecond(),
          Row.ms(load.percentileNanos(50)), Row.ms(load.percentileNanos(99)), w.errors(),
          loadCompleted ? "" : " (stopped at the time bound)", Row.cores(w.cpu().serverCores())));
      if (dataBytes >= 0) {
        b.append(String.format(" At the end of the run the data directory held %s and the server"
            + " RSS was %s.", mib(dataBytes), mib(serverRssBytes)));
      }
      if (settle != null) {
        b.append(String.format(" During %.0f s without requests after the load, the server used %s"
                + " cores (background work) while the rest of the machine used %s.",
            settle.wallSeconds(), Row.cores(settle.serverCores()), Row.cores(settle.otherCores())));
      }
      b.append("\n\n");
    }

    if (!query.isEmpty()) {
      b.append(String.format(heading + " Query over %,d loaded properties (%s s warm-up, %s s measured"
              + " each)%n%n", queryLoaded, num(queryWarmup), num(queryMeasure)));
      b.append("By id: `ids = [one random loaded id]`. By criteria: `kind` and `zone` chosen at"
          + " random, all tags returned (so up to ").append(criteriaLimit)
          .append(" × ~").append(kb(payloadBytes))
          .append(" per response). *Wrong* counts responses that were not exactly the expected"
              + " property (by id) or were empty or held a non-matching property (criteria).\n\n");
      b.append("| query | clients | ops/s | p50 ms | p99 ms | p99.9 ms | max ms | wrong | errors"
          + " | server CPU (cores) | server CPU µs/op | client CPU (cores) | other CPU (cores) |\n");
      b.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      for (Row r : query) {
        if (!r.ok()) {
          b.append("| ").append(r.name).append(" | ").append(r.clients).append(" | failed: ")
              .append(failure(r)).append(" | | | | | | | | | | |\n");
          continue;
        }
        ClosedLoop.Window w = r.window;
        b.append(String.format("| %s | %d | %,.0f | %s | %s | %s | %s | %d | %d | %s | %s | %s | %s |%n",
            r.name, r.clients, w.opsPerSecond(), Row.ms(r.percentileNanos(50)),
            Row.ms(r.percentileNanos(99)), Row.ms(r.percentileNanos(99.9)),
            Row.ms(w.latencies().getMaxValue()), w.misses(), w.errors(),
            Row.cores(w.cpu().serverCores()), cpuPerOp(w), Row.cores(w.cpu().clientCores()),
            Row.cores(w.cpu().otherCores())));
      }
      b.append('\n');
    }
    List<String> errors = new ArrayList<>();
    for (Row r : concat()) {
      if (r.window != null && r.window.errors() > 0 && r.window.firstError() != null) {
        errors.add(r.name + " × " + r.clients + ": " + r.window.firstError());
      }
    }
    if (!errors.isEmpty()) {
      b.append("First errors seen:\n\n");
      for (String e : errors) {
        b.append("- `").append(e.replace('`', '\'')).append("`\n");
      }
      b.append('\n');
    }
  }

  private void appendTargets(StringBuilder b) {
    b.append("### Targets\n\n| target | measured | verdict |\n|---|---|---|\n");
    Row a64 = apply.stream().filter(r -> r.clients == TARGET_APPLY_CLIENTS).findFirst()
        .orElse(null);
    boolean a64ok = a64 != null && a64.ok();
    b.append(String.format("| apply ≥ %,.0f ops/s with %d clients | %s | %s |%n", TARGET_APPLY_OPS,
        TARGET_APPLY_CLIENTS, a64ok ? String.format("%,.0f ops/s", a64.window.opsPerSecond())
            : "not measured", verdict(a64ok, a64ok && a64.window.opsPerSecond() >= TARGET_APPLY_OPS)));
    b.append(String.format("| apply p99 ≤ %s ms with %d clients (architecture §5) | %s | %s |%n",
        num(TARGET_APPLY_P99_MS), TARGET_APPLY_CLIENTS,
        a64ok ? Row.ms(a64.percentileNanos(99)) + " ms" : "not measured",
        verdict(a64ok, a64ok && a64.percentileNanos(99) <= TARGET_APPLY_P99_MS * 1e6)));
    for (Row r : query) {
      if (!r.name.equals("by id")) {
        continue;
      }
      boolean ok = r.ok();
      b.append(String.format("| query by id p99 ≤ %s ms, %d client%s | %s | %s |%n",
          num(TARGET_BY_ID_P99_MS), r.clients, r.clients == 1 ? "" : "s",
          ok ? Row.ms(r.percentileNanos(99)) + " ms" : "not measured",
          verdict(ok, ok && r.percentileNanos(99) <= TARGET_BY_ID_P99_MS * 1e6)));
    }
    b.append('\n');
  }

  /** The client counts of the query rows named {@code name}, in the order run. */
  List<Integer> queryClientsMeasured(String name) {
    return query.stream().filter(r -> r.name.equals(name)).map(r -> r.clients).distinct().toList();
  }

  private List<Row> concat() {
    List<Row> all = new ArrayList<>(apply);
    if (load != null) {
      all.add(load);
    }
    all.addAll(query);
    return all;
  }

  static String verdict(boolean measured, boolean met) {
    return !measured ? "not measured" : met ? "**met**" : "**missed**";
  }

  static String failure(Row r) {
    String f = r.failure != null ? r.failure : "no successful request";
    return "`" + f.replace('`', '\'').replace('|', '/') + "`";
  }

  static String cpuPerOp(ClosedLoop.Window w) {
    if (w.cpu().serverCpuNanos() < 0 || w.ops() == 0) {
      return "–";
    }
    return String.format("%.0f", w.cpu().serverCpuNanos() / 1e3 / w.ops());
  }

  static String num(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : String.valueOf(d);
  }

  static String kb(int bytes) {
    return bytes % 1024 == 0 ? (bytes / 1024) + " KB" : bytes + " B";
  }

  static String mib(long bytes) {
    return bytes < 0 ? "unknown" : String.format("%.0f MiB", bytes / 1024.0 / 1024.0);
  }

  static String minutes(Duration d) {
    long s = d.toSeconds();
    return s < 120 ? s + " s" : String.format("%.1f min", s / 60.0);
  }
}
