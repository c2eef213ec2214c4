package dev.arbor.bench.repair;

import dev.arbor.bench.ComparisonTable;
import dev.arbor.bench.ComparisonTable.Better;
import dev.arbor.bench.ComparisonTable.Cell;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleFunction;
import java.util.function.ToDoubleFunction;

/**
 * The repair benchmark's outputs when it ran several builds: one markdown table per figure with
 * a row per scenario, a column per build and the ratio of each later build to the first (see
 * {@link ComparisonTable}); the doc section around them keeps the single-build section's setup
 * rows, its targets (a column per build) and, folded away, each build's full results table.
 */
final class RepairComparisonReport {
  private RepairComparisonReport() {}

  /** The per-figure tables (stdout and the doc's results). */
  static String figures(List<RepairBench.BuildOutcome> outcomes) {
    List<String> labels = outcomes.stream().map(RepairBench.BuildOutcome::label).toList();
    List<ComparisonTable> tables = new ArrayList<>();
    tables.add(table(outcomes, labels, "repair wall time, ms (request → last round outcome)",
        RepairScenarioResult::wallMillis, v -> String.format(Locale.ROOT, "%,.1f", v)));
    tables.add(table(outcomes, labels, "repair traffic, bytes sent + received",
        r -> r.repairBytes(), v -> String.format(Locale.ROOT, "%,.0f", v)));
    tables.add(table(outcomes, labels, "CPU s of all data nodes over the RunRepair calls",
        RepairScenarioResult::cpuSecondsTotal, v -> String.format(Locale.ROOT, "%.3f", v)));
    tables.add(table(outcomes, labels, "CPU µs per repaired property",
        RepairScenarioResult::cpuMicrosPerRepaired, v -> String.format(Locale.ROOT, "%,.0f", v)));
    tables.add(table(outcomes, labels, "peak RSS of the largest data node, MiB",
        r -> r.peakRssBytes().values().stream().mapToLong(Long::longValue).max().orElse(-1)
            / (1024.0 * 1024.0), v -> v < 0 ? "?" : String.format(Locale.ROOT, "%,.0f", v)));
    ComparisonTable repeats = table(outcomes, labels,
        "RunRepair repeated on identical replicas (warm), median ms",
        RepairScenarioResult::repeatMedianMillis, v -> String.format(Locale.ROOT, "%,.1f", v),
        r -> !r.repeatWallMillis().isEmpty());
    ComparisonTable checks = new ComparisonTable("checks: keys diverged → repaired, rounds,"
        + " converged", Better.NONE, List.of("scenario", "properties"), labels);
    for (int i = 0; i < rows(outcomes); i++) {
      RepairScenarioResult any = anyAt(outcomes, i);
      List<Cell> cells = new ArrayList<>();
      for (RepairBench.BuildOutcome o : outcomes) {
        RepairScenarioResult r = i < o.results().size() ? o.results().get(i) : null;
        cells.add(Cell.text(r == null ? "not run" : String.format(Locale.ROOT,
            "%,d → %,d, %d round%s, %s", r.divergedBefore(), r.repaired(), r.rounds(),
            r.rounds() == 1 ? "" : "s", r.converged() ? "converged" : "**NOT converged**")));
      }
      checks.add(keys(any), cells);
    }
    StringBuilder b = new StringBuilder();
    for (ComparisonTable t : tables) {
      b.append(t.toMarkdown()).append('\n');
    }
    if (!repeats.isEmpty()) {
      b.append(repeats.toMarkdown()).append('\n');
    }
    b.append(checks.toMarkdown());
    return b.toString();
  }

  /** The doc section: setup, targets per build, the figures, each build's details, analysis. */
  static String markdown(List<RepairBench.BuildOutcome> outcomes, String analysis) {
    List<String> labels = outcomes.stream().map(RepairBench.BuildOutcome::label).toList();
    RepairBench.RunInfo first = outcomes.get(0).info();
    StringBuilder b = new StringBuilder();
    b.append("## Repair scenarios on a real cluster (issue 6): ")
        .append(String.join(" vs ", labels)).append("\n\n");
    b.append("Written by `dev.arbor.bench.repair.RepairBench` (`bench/`) with `--update-doc` and"
        + " one `--server-jar` per build; re-running it replaces this section but keeps the"
        + " analysis block at its end.\n\n");
    b.append("| | |\n|---|---|\n");
    RepairReport.appendRunRows(b, first);
    for (RepairBench.BuildOutcome o : outcomes) {
      b.append("| build `").append(o.label()).append("` | `")
          .append(RepairReport.jarText(o.info())).append(" |\n");
    }
    RepairReport.appendClusterProcesses(b, first);
    b.append("; one such cluster per build, all up for the whole run; each scenario runs on every"
        + " build's cluster in turn, the order rotating from scenario to scenario, with identical"
        + " parameters and payload seed (the idle cluster is not paused: its nodes' etcd leases"
        + " and peer connections would time out) |\n");
    RepairReport.appendSetupRows(b, first);

    b.append("### Targets (100k × 2 KB, 3 data nodes, 1 shard)\n\n| target |");
    labels.forEach(l -> b.append(' ').append(l).append(" |"));
    b.append("\n|---|").append("---|".repeat(labels.size())).append('\n');
    for (RepairReport.Target t : RepairReport.TARGETS) {
      b.append("| ").append(t.label()).append(" |");
      for (RepairBench.BuildOutcome o : outcomes) {
        String[] cell = t.cell(o.results());
        b.append(' ').append(cell[0]).append(": ").append(cell[1]).append(" |");
      }
      b.append('\n');
    }
    b.append('\n');

    b.append("### Results: ").append(String.join(" vs ", labels)).append("\n\n");
    b.append("Ratios are `later build / first build` of the same figure (the first build given is"
        + " the baseline); every figure here is lower-is-better.\n\n");
    b.append(figures(outcomes)).append('\n');
    b.append("### Each build's full results\n\n");
    for (RepairBench.BuildOutcome o : outcomes) {
      b.append("<details><summary>").append(o.label())
          .append(": divergence, traffic, CPU and memory per node</summary>\n\n");
      RepairReport.appendResults(b, o.info(), o.results());
      b.append("</details>\n\n");
    }
    RepairReport.appendAnalysis(b, analysis);
    return b.toString();
  }

  private static ComparisonTable table(List<RepairBench.BuildOutcome> outcomes,
      List<String> labels, String title, ToDoubleFunction<RepairScenarioResult> value,
      DoubleFunction<String> format) {
    return table(outcomes, labels, title, value, format, r -> true);
  }

  /** Only the scenarios for which {@code applies} holds on some build get a row. */
  private static ComparisonTable table(List<RepairBench.BuildOutcome> outcomes,
      List<String> labels, String title, ToDoubleFunction<RepairScenarioResult> value,
      DoubleFunction<String> format, java.util.function.Predicate<RepairScenarioResult> applies) {
    ComparisonTable t = new ComparisonTable(title, Better.LOWER, List.of("scenario", "properties"),
        labels);
    for (int i = 0; i < rows(outcomes); i++) {
      int row = i;
      if (outcomes.stream().noneMatch(o -> row < o.results().size()
          && applies.test(o.results().get(row)))) {
        continue;
      }
      List<Cell> cells = new ArrayList<>();
      for (RepairBench.BuildOutcome o : outcomes) {
        RepairScenarioResult r = i < o.results().size() ? o.results().get(i) : null;
        double v = r == null ? Double.NaN : value.applyAsDouble(r);
        cells.add(r == null ? Cell.missing("not run")
            : Double.isNaN(v) || Double.isInfinite(v) ? Cell.missing("–") : Cell.of(v, format));
      }
      t.add(keys(anyAt(outcomes, i)), cells);
    }
    return t;
  }

  /** Every build runs the same scenarios in the same order: row i is scenario i everywhere. */
  private static int rows(List<RepairBench.BuildOutcome> outcomes) {
    return outcomes.stream().mapToInt(o -> o.results().size()).max().orElse(0);
  }

  private static RepairScenarioResult anyAt(List<RepairBench.BuildOutcome> outcomes, int i) {
    return outcomes.stream().filter(o -> i < o.results().size()).findFirst()
        .map(o -> o.results().get(i)).orElseThrow();
  }

  private static List<String> keys(RepairScenarioResult r) {
    return List.of(r.scenario(), String.format(Locale.ROOT, "%,d × %d B", r.properties(),
        r.sizeBytes()));
  }
}
