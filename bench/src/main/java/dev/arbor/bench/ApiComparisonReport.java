package dev.arbor.bench;

import dev.arbor.bench.ComparisonTable.Better;
import dev.arbor.bench.ComparisonTable.Cell;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

/**
 * The API benchmark's markdown when it measured several builds and/or the no-storage ceiling in
 * one run: one table per figure with a column per build and the ratio of each later build to the
 * first (see {@link ComparisonTable}), the apply throughput also as a percentage of the ceiling,
 * and each build's full single-run tables folded away below.
 */
final class ApiComparisonReport {
  /** The storage-engine issue's bound: standalone apply with 64 clients vs the ceiling. */
  static final double TARGET_CEILING_SHARE = 0.80;

  private final List<Report> builds;
  private final Report ceiling;
  private final boolean pausedIdle;
  private final String fatal;
  private final Report first;
  private final List<String> labels;

  /**
   * @param builds one report per build, the baseline first
   * @param ceiling the ceiling's apply figures; null when not measured
   * @param pausedIdle whether servers not being measured were paused
   * @param fatal why the run stopped early; null when it did not
   */
  ApiComparisonReport(List<Report> builds, Report ceiling, boolean pausedIdle, String fatal) {
    this.builds = List.copyOf(builds);
    this.ceiling = ceiling;
    this.pausedIdle = pausedIdle;
    this.fatal = fatal;
    this.first = builds.get(0);
    this.labels = builds.stream().map(r -> r.label).toList();
  }

  String toMarkdown() {
    StringBuilder b = new StringBuilder();
    b.append("## gRPC API benchmark (standalone server): ")
        .append(builds.size() > 1 ? String.join(" vs ", labels) : labels.get(0))
        .append(ceiling != null ? ", with the no-storage gRPC ceiling" : "").append("\n\n");
    b.append("Written by `dev.arbor.bench.ApiBenchmark` (`bench/`); re-running it replaces this"
        + " section.")
        .append(first.quick ? " **Quick run (`--quick`): tiny sizes, a smoke check, not a"
            + " measurement.**" : "")
        .append("\n\n");
    appendSetup(b);
    if (fatal != null) {
      b.append("**The run failed:** `").append(fatal.replace('`', '\'')).append("`\n\n");
    }
    for (Report r : builds) {
      if (Boolean.FALSE.equals(r.serverAliveAtEnd)) {
        b.append("**The server of `").append(r.label).append("` had exited by the end of the"
            + " run.**\n\n");
      }
    }
    appendTargets(b);
    appendApply(b);
    appendLoad(b);
    appendQueries(b);
    appendProblems(b);
    appendDetails(b);
    return b.toString();
  }

  private void appendSetup(StringBuilder b) {
    MachineInfo m = first.machine;
    b.append("| | |\n|---|---|\n");
    b.append("| command | `").append(first.command).append("` (from the repository root) |\n");
    b.append("| date | ").append(first.started.truncatedTo(ChronoUnit.SECONDS))
        .append(" (run took ")
        .append(Report.minutes(Duration.between(first.started, first.finished))).append(") |\n");
    b.append("| commit | ").append(m.commit()).append(" (of the benchmark) |\n");
    b.append("| machine | `nproc` = ").append(m.nproc()).append(", ").append(m.cpuModel())
        .append(", ").append(m.ram()).append(" RAM, ").append(m.os()).append(" |\n");
    b.append("| Java | ").append(m.java()).append(", the same JVM for client and servers |\n");
    for (Report r : builds) {
      b.append("| build `").append(r.label).append("` | `").append(r.serverCommand)
          .append("`; API version ").append(r.apiVersion == null ? "unknown" : r.apiVersion);
      if (r.serverJarBuilt != null) {
        b.append("; jar built ").append(r.serverJarBuilt.truncatedTo(ChronoUnit.SECONDS));
      }
      if (r.serverStartSeconds >= 0) {
        b.append(String.format(Locale.ROOT, "; healthy %.1f s after launch", r.serverStartSeconds));
      }
      b.append(" |\n");
    }
    if (ceiling != null) {
      b.append("| ceiling | `").append(ceiling.serverCommand).append("`: a gRPC server built by the"
          + " server's own `ServingEndpoints` (same Netty settings, interceptors, limits and"
          + " executor as a real node) whose `PropertyService.Apply` answers `created` at once and"
          + " stores nothing; same JVM flags as the builds; only the apply levels run against it |\n");
    }
    b.append("| order | every step (JIT warm-up, each apply level, the load, each query scenario)"
        + " runs on each server in turn, the order rotating from step to step; ")
        .append(pausedIdle ? "the servers not being measured are paused (SIGSTOP) meanwhile"
            : "the servers not being measured stay up, idle (`--no-pause-idle`)")
        .append("; identical parameters and payload seed for every build |\n");
    b.append("| client | one JVM (flags: ").append(m.clientJvmArgs())
        .append("); closed loop: N virtual clients, each with exactly one outstanding async unary"
            + " call, over ").append(first.channels).append(" HTTP/2 connections per server;"
            + " latency from issue to response, HdrHistogram (3 significant digits) |\n");
    b.append("| data | per build a group for the apply levels and one for the queries,"
            + " CATALOG_PROPERTY, shard_num ").append(first.shards)
        .append("; a property has 4 tags: `data` STRING (").append(first.payloadBytes)
        .append(" random chars), `ts` INT, `kind` STRING (").append(first.kinds)
        .append(" values), `zone` STRING (").append(first.zones)
        .append(" values); applies send STRATEGY_MERGE like the official client |\n");
    if (first.jitWarmupSeconds >= 0) {
      List<String> notes = new ArrayList<>();
      for (Report r : all()) {
        notes.add("`" + r.label + "`: " + r.jitWarmupNotes);
      }
      b.append(String.format(Locale.ROOT, "| JIT warm-up | before any measurement, %.0f s of"
          + " applies (windows repeated until two agree within 10 %%) and of each query kind with 8 clients"
          + " in a third group, per server (%s) |%n",
          first.jitWarmupSeconds, String.join("; ", notes)));
    }
    b.append('\n');
    b.append("> Figures of **one run** on a **noisy 2-core machine**, with the client and the"
        + " server on the **same cores**; not medians of several runs. Ratios are `later build /"
        + " first build` of the same figure (the first build given is the baseline). Latencies are"
        + " closed-loop (not corrected for coordinated omission).\n\n");
  }

  private List<Report> all() {
    List<Report> all = new ArrayList<>(builds);
    if (ceiling != null) {
      all.add(ceiling);
    }
    return all;
  }

  // ------------------------------------------------------------------------------- targets

  private void appendTargets(StringBuilder b) {
    b.append("### Targets\n\n| target |");
    labels.forEach(l -> b.append(' ').append(l).append(" |"));
    b.append("\n|---|").append("---|".repeat(labels.size())).append('\n');
    targetRow(b, String.format(Locale.ROOT, "apply ≥ %,.0f ops/s with %d clients",
        Report.TARGET_APPLY_OPS, Report.TARGET_APPLY_CLIENTS), r -> {
          Row a = applyRow(r, Report.TARGET_APPLY_CLIENTS);
          return a == null ? "not measured" : String.format(Locale.ROOT, "%,.0f ops/s %s",
              a.window.opsPerSecond(), Report.verdict(true,
                  a.window.opsPerSecond() >= Report.TARGET_APPLY_OPS));
        });
    targetRow(b, String.format(Locale.ROOT, "apply p99 ≤ %s ms with %d clients",
        Report.num(Report.TARGET_APPLY_P99_MS), Report.TARGET_APPLY_CLIENTS), r -> {
          Row a = applyRow(r, Report.TARGET_APPLY_CLIENTS);
          return a == null ? "not measured" : Row.ms(a.percentileNanos(99)) + " ms "
              + Report.verdict(true, a.percentileNanos(99) <= Report.TARGET_APPLY_P99_MS * 1e6);
        });
    if (ceiling != null) {
      Row c = applyRow(ceiling, Report.TARGET_APPLY_CLIENTS);
      targetRow(b, String.format(Locale.ROOT, "apply with %d clients ≥ %.0f %% of the no-storage"
          + " gRPC ceiling (%s)", Report.TARGET_APPLY_CLIENTS, TARGET_CEILING_SHARE * 100,
          c == null ? "not measured" : String.format(Locale.ROOT, "%,.0f ops/s",
              c.window.opsPerSecond())), r -> {
                Row a = applyRow(r, Report.TARGET_APPLY_CLIENTS);
                if (a == null || c == null) {
                  return "not measured";
                }
                double share = a.window.opsPerSecond() / c.window.opsPerSecond();
                return String.format(Locale.ROOT, "%.0f %% %s", share * 100,
                    Report.verdict(true, share >= TARGET_CEILING_SHARE));
              });
    }
    for (int clients : first.queryClientsMeasured("by id")) {
      targetRow(b, String.format(Locale.ROOT, "query by id p99 ≤ %s ms, %d client%s",
          Report.num(Report.TARGET_BY_ID_P99_MS), clients, clients == 1 ? "" : "s"), r -> {
            Row q = queryRow(r, "by id", clients);
            return q == null ? "not measured" : Row.ms(q.percentileNanos(99)) + " ms "
                + Report.verdict(true, q.percentileNanos(99) <= Report.TARGET_BY_ID_P99_MS * 1e6);
          });
    }
    b.append('\n');
  }

  private interface CellText {
    String of(Report r);
  }

  private void targetRow(StringBuilder b, String target, CellText cell) {
    b.append("| ").append(target).append(" |");
    for (Report r : builds) {
      b.append(' ').append(cell.of(r)).append(" |");
    }
    b.append('\n');
  }

  /** The measured row of an apply level; null when absent or failed. */
  private static Row applyRow(Report r, int clients) {
    return r.apply.stream().filter(x -> x.clients == clients && x.ok()).findFirst().orElse(null);
  }

  private static Row queryRow(Report r, String name, int clients) {
    return r.query.stream().filter(x -> x.name.equals(name) && x.clients == clients && x.ok())
        .findFirst().orElse(null);
  }

  // --------------------------------------------------------------------------------- apply

  private void appendApply(StringBuilder b) {
    b.append(String.format(Locale.ROOT, "### Apply: ~%s property per request (%s s warm-up, %s s"
            + " measured per level)%n%n", Report.kb(first.payloadBytes), Report.num(first.warmup),
        Report.num(first.measure)));
    List<Integer> levels = first.apply.stream().map(r -> r.clients).toList();
    List<String> extras = new ArrayList<>();
    if (ceiling != null) {
      extras.add("ceiling");
      labels.forEach(l -> extras.add(l + " % of ceiling"));
    }
    ComparisonTable ops = new ComparisonTable("ops/s", Better.HIGHER, List.of("clients"), labels,
        extras);
    for (int clients : levels) {
      List<String> ex = new ArrayList<>();
      if (ceiling != null) {
        Row c = applyRow(ceiling, clients);
        ex.add(c == null ? "–" : String.format(Locale.ROOT, "%,.0f", c.window.opsPerSecond()));
        for (Report r : builds) {
          Row a = applyRow(r, clients);
          ex.add(a == null || c == null ? "–" : String.format(Locale.ROOT, "%.0f %%",
              100 * a.window.opsPerSecond() / c.window.opsPerSecond()));
        }
      }
      ops.add(List.of(Integer.toString(clients)), cells(r -> applyRow(r, clients),
          row -> row.window.opsPerSecond(), ApiComparisonReport::opsText), ex);
    }
    b.append(ops.toMarkdown()).append('\n');
    for (double p : new double[] {50, 99, 99.9}) {
      ComparisonTable t = new ComparisonTable("p" + Report.num(p) + " ms", Better.LOWER,
          List.of("clients"), labels);
      for (int clients : levels) {
        t.add(List.of(Integer.toString(clients)), cells(r -> applyRow(r, clients),
            row -> row.percentileNanos(p) / 1e6, ApiComparisonReport::msText));
      }
      b.append(t.toMarkdown()).append('\n');
    }
    ComparisonTable cpu = new ComparisonTable("server CPU µs per apply", Better.LOWER,
        List.of("clients"), labels);
    for (int clients : levels) {
      cpu.add(List.of(Integer.toString(clients)), cells(r -> applyRow(r, clients),
          ApiComparisonReport::cpuMicrosPerOp, v -> String.format(Locale.ROOT, "%.0f", v)));
    }
    b.append(cpu.toMarkdown()).append('\n');
  }

  // ---------------------------------------------------------------------------------- load

  private void appendLoad(StringBuilder b) {
    if (builds.stream().allMatch(r -> r.load == null || r.load.window == null)) {
      return;
    }
    b.append("### Load before the queries\n\n");
    b.append(String.format(Locale.ROOT, "%,d properties applied by %d clients per build.%n%n",
        first.loadRequested, first.load == null ? 0 : first.load.clients));
    ComparisonTable ops = new ComparisonTable("load ops/s", Better.HIGHER, List.of("figure"),
        labels);
    ops.add(List.of("ops/s"), cells(r -> r.load, row -> row.window.opsPerSecond(),
        ApiComparisonReport::opsText));
    b.append(ops.toMarkdown()).append('\n');
    ComparisonTable footprint = new ComparisonTable("load latency and footprint", Better.LOWER, List.of("figure"),
        labels);
    footprint.add(List.of("load p99 ms"), cells(r -> r.load, row -> row.percentileNanos(99) / 1e6,
        ApiComparisonReport::msText));
    footprint.add(List.of("data directory at the end, MiB"), builds.stream()
        .map(r -> r.dataBytes < 0 ? Cell.missing("–") : Cell.of(r.dataBytes / 1048576.0,
            v -> String.format(Locale.ROOT, "%,.0f", v))).toList());
    footprint.add(List.of("server RSS at the end, MiB"), builds.stream()
        .map(r -> r.serverRssBytes < 0 ? Cell.missing("–") : Cell.of(r.serverRssBytes / 1048576.0,
            v -> String.format(Locale.ROOT, "%,.0f", v))).toList());
    footprint.add(List.of("server CPU while idle after the load, cores"), builds.stream()
        .map(r -> r.settle == null || r.settle.serverCores() < 0 ? Cell.missing("–")
            : Cell.of(r.settle.serverCores(), Row::cores)).toList());
    b.append(footprint.toMarkdown()).append('\n');
  }

  // ------------------------------------------------------------------------------- queries

  private void appendQueries(StringBuilder b) {
    if (first.query.isEmpty()) {
      return;
    }
    b.append(String.format(Locale.ROOT, "### Query over %s loaded properties (%s s warm-up, %s s"
            + " measured each)%n%n", loadedText(), Report.num(first.queryWarmup),
        Report.num(first.queryMeasure)));
    List<String> keys = List.of("query", "clients");
    ComparisonTable ops = new ComparisonTable("ops/s", Better.HIGHER, keys, labels);
    ComparisonTable p50 = new ComparisonTable("p50 ms", Better.LOWER, keys, labels);
    ComparisonTable p99 = new ComparisonTable("p99 ms", Better.LOWER, keys, labels);
    ComparisonTable cpu = new ComparisonTable("server CPU µs per query", Better.LOWER, keys,
        labels);
    for (Row q : first.query) {
      List<String> key = List.of(q.name, Integer.toString(q.clients));
      ops.add(key, cells(r -> queryRow(r, q.name, q.clients), row -> row.window.opsPerSecond(),
          ApiComparisonReport::opsText));
      p50.add(key, cells(r -> queryRow(r, q.name, q.clients), row -> row.percentileNanos(50) / 1e6,
          ApiComparisonReport::msText));
      p99.add(key, cells(r -> queryRow(r, q.name, q.clients), row -> row.percentileNanos(99) / 1e6,
          ApiComparisonReport::msText));
      cpu.add(key, cells(r -> queryRow(r, q.name, q.clients), ApiComparisonReport::cpuMicrosPerOp,
          v -> String.format(Locale.ROOT, "%.0f", v)));
    }
    for (ComparisonTable t : List.of(ops, p50, p99, cpu)) {
      b.append(t.toMarkdown()).append('\n');
    }
  }

  private String loadedText() {
    List<Integer> loaded = builds.stream().map(r -> r.queryLoaded).distinct().toList();
    if (loaded.size() == 1) {
      return String.format(Locale.ROOT, "%,d", loaded.get(0));
    }
    List<String> per = new ArrayList<>();
    for (Report r : builds) {
      per.add(String.format(Locale.ROOT, "%,d (%s)", r.queryLoaded, r.label));
    }
    return String.join(" / ", per);
  }

  // ------------------------------------------------------------------------------ problems

  /** Errors, wrong answers and failed steps: listed, since the tables only show figures. */
  private void appendProblems(StringBuilder b) {
    List<String> problems = new ArrayList<>();
    for (Report r : all()) {
      List<Row> rows = new ArrayList<>(r.apply);
      if (r.load != null) {
        rows.add(r.load);
      }
      rows.addAll(r.query);
      for (Row row : rows) {
        String what = "`" + r.label + "` " + row.name + " × " + row.clients + ": ";
        if (!row.ok()) {
          problems.add(what + "failed: " + Report.failure(row));
        } else if (row.window.errors() > 0 || row.window.misses() > 0) {
          problems.add(what + row.window.errors() + " errors, " + row.window.misses()
              + " wrong answers" + (row.window.firstError() == null ? ""
              : "; first error `" + row.window.firstError().replace('`', '\'') + "`"));
        }
      }
    }
    b.append("### Errors and wrong answers\n\n");
    if (problems.isEmpty()) {
      b.append("None: every measured request succeeded and every query answer was checked"
          + " right.\n\n");
      return;
    }
    for (String p : problems) {
      b.append("- ").append(p).append('\n');
    }
    b.append('\n');
  }

  // ------------------------------------------------------------------------------- details

  private void appendDetails(StringBuilder b) {
    b.append("### Each build's full figures\n\n");
    for (Report r : builds) {
      b.append("<details><summary>").append(r.label)
          .append(": latency percentiles, errors, server, client and other CPU</summary>\n\n");
      r.appendSections(b, "####");
      b.append("</details>\n\n");
    }
  }

  // ------------------------------------------------------------------------------- helpers

  private interface RowOf {
    Row of(Report r);
  }

  /** One cell per build: the figure of its row, or "–" when the row is absent or failed. */
  private List<Cell> cells(RowOf row, ToDoubleFunction<Row> value,
      java.util.function.DoubleFunction<String> format) {
    List<Cell> cells = new ArrayList<>();
    for (Report r : builds) {
      Row x = row.of(r);
      cells.add(x == null || !x.ok() ? Cell.missing(x == null ? "–" : "failed")
          : Cell.of(value.applyAsDouble(x), format));
    }
    return cells;
  }

  private static double cpuMicrosPerOp(Row r) {
    ClosedLoop.Window w = r.window;
    return w.cpu().serverCpuNanos() < 0 || w.ops() == 0 ? Double.NaN
        : w.cpu().serverCpuNanos() / 1e3 / w.ops();
  }

  private static String opsText(double v) {
    return String.format(Locale.ROOT, "%,.0f", v);
  }

  private static String msText(double ms) {
    return Row.ms(Math.round(ms * 1e6));
  }
}
