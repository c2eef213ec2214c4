package dev.arbor.bench.repair;

import dev.arbor.bench.cluster.ProcStats;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.arbor.bench.BenchDoc;
import dev.arbor.bench.MachineInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The repair benchmark's outputs: fixed-width tables on stdout, a JSON file, a doc section. */
final class RepairReport {
  static final String START = "<!-- repair-bench:start -->";
  static final String END = "<!-- repair-bench:end -->";
  static final String ANALYSIS_START = "<!-- repair-bench:analysis:start -->";
  static final String ANALYSIS_END = "<!-- repair-bench:analysis:end -->";
  private static final double MIB = 1024.0 * 1024.0;

  private RepairReport() {}

  // ------------------------------------------------------------------------------------- stdout

  /** The fixed-width table of one scenario. */
  static String table(RepairScenarioResult r) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT,
        "scenario %s: %,d properties x %d B, %d copies of 1 shard on %d data nodes; victim %s,"
            + " repair run on %s -> %s%n",
        r.scenario(), r.properties(), r.sizeBytes(), r.copies(), r.dataNodes(), r.victim(),
        r.trigger(), r.converged() ? "CONVERGED" : "NOT CONVERGED"));
    if (r.error() != null) {
      b.append(String.format("  %-18s %s%n", "error", r.error()));
    }
    b.append(String.format(Locale.ROOT, "  %-18s %,d writes in %.1f s via the %s API%s (%d retries),"
            + " not measured%n", "load", r.writes(), r.loadMillis() / 1000.0, r.load(),
        "internal".equals(r.load()) ? " (setup shortcut: DataNodeService.Write batches)" : "",
        r.loadRetries()));
    b.append(String.format(Locale.ROOT,
        "  %-18s %,d keys differ (expected %,d), %,d bytes; trees %s (build %d ms, check %d ms)%n",
        "before repair", r.divergedBefore(), r.expectedDiverged(), r.missingBytes(),
        r.treesDifferedBefore() ? "differ" : "equal", r.treeBuildMillisBefore(),
        r.checkMillisBefore()));
    b.append(String.format(Locale.ROOT,
        "  %-18s %.1f ms (%d RunRepair call(s), %d round(s), %d hop(s), %d failed)%n",
        "repair wall time", r.wallMillis(), r.calls(), r.rounds(), r.hops(), r.failedHops()));
    b.append(String.format(Locale.ROOT, "  %-18s %,d B sent + %,d B received = %,d B (%s per missing byte)%n",
        "repair traffic", r.bytesSent(), r.bytesReceived(), r.repairBytes(),
        fmt(r.bytesPerMissingByte(), 2)));
    b.append(String.format(Locale.ROOT, "  %-18s %,d B (total minus %,d B of records, %s)%n",
        "beyond the records", r.bytesBeyondRecords(), r.repairBytes() - r.bytesBeyondRecords(),
        r.recordBytesSource()));
    b.append(String.format(Locale.ROOT,
        "  %-18s %,d (%,d to server, %,d to client), expected %,d; %,d leaves compared%n",
        "repaired", r.repaired(), r.repairedToServer(), r.repairedToClient(),
        r.expectedDiverged(), r.leavesCompared()));
    b.append(String.format(Locale.ROOT, "  %-18s %.3f s over the data nodes, %s µs per repaired property"
            + " (%.3f s with the tree rebuilds after the repair)%n",
        "CPU", r.cpuSecondsTotal(), fmt(r.cpuMicrosPerRepaired(), 0), r.cpuSecondsWithRebuildTotal()));
    if (!r.repeatWallMillis().isEmpty()) {
      b.append(String.format(Locale.ROOT, "  %-18s %s ms (median %.1f ms)%n", "repeated calls",
          r.repeatWallMillis().stream().map(d -> String.format(Locale.ROOT, "%.1f", d)).toList(),
          r.repeatMedianMillis()));
    }
    b.append(String.format(Locale.ROOT, "  %-18s trees %s, %s keys differ (verify %d ms); outcomes %s%n",
        "after repair", r.treesEqualAfter() ? "equal" : "DIFFER",
        r.differingAfter() < 0 ? "?" : String.format("%,d", r.differingAfter()), r.verifyMillis(),
        r.outcomes()));
    b.append(String.format("  %-6s %-8s %10s %16s %22s %16s%n", "node", "role", "CPU s",
        "RSS before MiB", "(anon + file-backed)", "peak RSS MiB"));
    for (String node : r.cpuSeconds().keySet()) {
      String role = node.equals(r.trigger()) ? "trigger" : node.equals(r.victim()) ? "victim"
          : r.replicas().contains(node) ? "replica" : "-";
      b.append(String.format(Locale.ROOT, "  %-6s %-8s %10.3f %16s %22s %16s%n", node, role,
          r.cpuSeconds().get(node), mib(r.rssBeforeBytes().get(node)),
          "(" + mib(r.rssAnonBeforeBytes().get(node)) + " + " + mib(r.rssFileBeforeBytes().get(node))
              + ")", mib(r.peakRssBytes().get(node))));
    }
    b.append(String.format("  (peak RSS scope: %s)", r.rssScope()));
    return b.toString();
  }

  /** One line per scenario. */
  static String summary(List<RepairScenarioResult> results) {
    StringBuilder b = new StringBuilder("repair scenarios\n");
    String head = String.format("%-10s %9s %5s %-8s %9s %9s %10s %6s %4s %13s %12s %7s %9s %11s %10s %9s",
        "scenario", "props", "size", "load", "diverged", "repaired", "wall ms", "rounds", "hops",
        "repair bytes", "beyond rec", "B/miss", "CPU s", "CPU µs/rep", "peak MiB", "converged");
    b.append(head).append('\n').append("-".repeat(head.length())).append('\n');
    for (RepairScenarioResult r : results) {
      long maxRss = r.peakRssBytes().values().stream().mapToLong(Long::longValue).max().orElse(-1);
      b.append(String.format(Locale.ROOT,
          "%-10s %,9d %5d %-8s %,9d %,9d %10.1f %6d %4d %,13d %,12d %7s %9.3f %11s %10s %9s%n",
          r.scenario(), r.properties(), r.sizeBytes(), r.load(), r.divergedBefore(), r.repaired(),
          r.wallMillis(), r.rounds(), r.hops(), r.repairBytes(), r.bytesBeyondRecords(),
          fmt(r.bytesPerMissingByte(), 2),
          r.cpuSecondsTotal(), fmt(r.cpuMicrosPerRepaired(), 0), mib(maxRss),
          r.converged() ? "yes" : "NO"));
    }
    return b.toString();
  }

  // --------------------------------------------------------------------------------------- JSON

  static void writeJson(Path file, RepairBench.RunInfo info, List<RepairScenarioResult> results,
      String fatal) throws IOException {
    write(file, json(info, results, fatal));
  }

  /**
   * Several builds: {@code benchmark}, {@code comparison} (the labels, baseline first), the shared
   * {@code command}, {@code fatal}, and {@code builds}: each build's label with the single-build
   * document.
   */
  static void writeComparisonJson(Path file, List<RepairBench.BuildOutcome> outcomes, String fatal)
      throws IOException {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("benchmark", "repair");
    root.put("comparison", outcomes.stream().map(RepairBench.BuildOutcome::label).toList());
    root.put("command", outcomes.get(0).info().command());
    root.put("fatal", fatal);
    List<Map<String, Object>> builds = new ArrayList<>();
    for (RepairBench.BuildOutcome o : outcomes) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("label", o.label());
      m.putAll(json(o.info(), o.results(), fatal));
      builds.add(m);
    }
    root.put("builds", builds);
    write(file, root);
  }

  private static void write(Path file, Map<String, Object> root) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), root);
  }

  private static Map<String, Object> json(RepairBench.RunInfo info,
      List<RepairScenarioResult> results, String fatal) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("benchmark", "repair");
    root.put("started", info.started().toString());
    root.put("total_ms", info.totalMillis());
    root.put("command", info.command());
    root.put("quick", info.quick());
    root.put("machine", info.machine());
    Map<String, Object> cluster = new LinkedHashMap<>();
    cluster.put("server_jar", info.serverJar());
    cluster.put("server_jar_built", info.serverJarBuilt() == null ? null : info.serverJarBuilt().toString());
    cluster.put("server_jar_changed_during_run", info.serverJarChangedDuringRun());
    if (info.transport() != null) {
      cluster.put("tls", RepairBench.TLS_TRANSPORT.equals(info.transport()));
    }
    cluster.put("data_nodes", info.dataNodes());
    cluster.put("copies", info.copies());
    cluster.put("shards", 1);
    cluster.put("node_jvm_opts", info.nodeJvmOpts());
    cluster.put("liaison_jvm_opts", info.liaisonJvmOpts());
    cluster.put("load", info.load());
    if ("internal".equals(info.load())) {
      cluster.put("load_note", "load via internal API: a setup shortcut; the repair measured is the"
          + " same");
      cluster.put("load_batch_records", info.loadBatch());
      cluster.put("load_batches_in_flight", info.loadBatches());
    } else {
      cluster.put("load_in_flight", info.inFlight());
    }
    cluster.put("cluster_start_ms", info.clusterStartMillis());
    cluster.put("clock_ticks_per_second", ProcStats.CLOCK_TICKS_PER_SECOND);
    root.put("cluster", cluster);
    if (info.workDir() != null) {
      root.put("work_dir", info.workDir());
    }
    root.put("fatal", fatal);
    root.put("all_converged", fatal == null && results.stream().allMatch(RepairScenarioResult::converged));
    List<Map<String, Object>> list = new ArrayList<>();
    for (RepairScenarioResult r : results) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("scenario", r.scenario());
      m.put("description", r.description());
      m.put("properties", r.properties());
      m.put("size_bytes", r.sizeBytes());
      m.put("copies", r.copies());
      m.put("group", r.group());
      m.put("replicas", r.replicas());
      m.put("victim", r.victim());
      m.put("trigger", r.trigger());
      m.put("load", r.load());
      m.put("load_writes", r.writes());
      m.put("load_ms", r.loadMillis());
      m.put("load_retries", r.loadRetries());
      m.put("expected_diverged", r.expectedDiverged());
      m.put("diverged_before", r.divergedBefore());
      m.put("missing_bytes", r.missingBytes());
      m.put("trees_differed_before", r.treesDifferedBefore());
      m.put("tree_build_ms_before", r.treeBuildMillisBefore());
      m.put("wall_ms", round(r.wallMillis(), 3));
      m.put("run_repair_calls", r.calls());
      m.put("rounds", r.rounds());
      m.put("sessions", r.hops());
      m.put("failed_sessions", r.failedHops());
      m.put("bytes_sent", r.bytesSent());
      m.put("bytes_received", r.bytesReceived());
      m.put("repair_bytes", r.repairBytes());
      m.put("record_bytes", r.recordBytes());
      m.put("bytes_beyond_records", r.bytesBeyondRecords());
      m.put("bytes_beyond_records_source", r.recordBytesSource());
      m.put("repair_bytes_per_missing_byte", nanToNull(round(r.bytesPerMissingByte(), 4)));
      m.put("leaves_compared", r.leavesCompared());
      m.put("repaired_to_server", r.repairedToServer());
      m.put("repaired_to_client", r.repairedToClient());
      m.put("repaired", r.repaired());
      m.put("cpu_seconds", r.cpuSeconds());
      m.put("cpu_seconds_total", round(r.cpuSecondsTotal(), 4));
      m.put("cpu_us_per_repaired_property", nanToNull(round(r.cpuMicrosPerRepaired(), 1)));
      m.put("cpu_seconds_with_tree_rebuild", r.cpuSecondsWithRebuild());
      m.put("cpu_seconds_with_tree_rebuild_total", round(r.cpuSecondsWithRebuildTotal(), 4));
      m.put("repeat_wall_ms", r.repeatWallMillis());
      m.put("rss_before_bytes", r.rssBeforeBytes());
      m.put("rss_anon_before_bytes", r.rssAnonBeforeBytes());
      m.put("rss_file_before_bytes", r.rssFileBeforeBytes());
      m.put("peak_rss_bytes", r.peakRssBytes());
      m.put("peak_rss_scope", r.rssScope());
      m.put("trees_equal_after", r.treesEqualAfter());
      m.put("differing_after", r.differingAfter());
      m.put("verify_ms", r.verifyMillis());
      m.put("outcomes", r.outcomes());
      m.put("hops", r.hopList());
      m.put("trace", r.trace());
      m.put("converged", r.converged());
      m.put("error", r.error());
      list.add(m);
    }
    root.put("scenarios", list);
    return root;
  }

  private static Double nanToNull(double d) {
    return Double.isNaN(d) || Double.isInfinite(d) ? null : d;
  }

  private static double round(double d, int places) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      return d;
    }
    double f = Math.pow(10, places);
    return Math.round(d * f) / f;
  }

  // ----------------------------------------------------------------------------------- markdown

  /** Rewrites the repair-bench section of {@code doc}, keeping its analysis block. */
  static void updateDoc(Path doc, RepairBench.RunInfo info, List<RepairScenarioResult> results)
      throws IOException {
    updateDoc(doc, analysis -> markdown(info, results, analysis));
  }

  /**
   * Rewrites the repair-bench section of {@code doc} with what {@code render} makes of the
   * section's current analysis block (null when there is none).
   */
  static void updateDoc(Path doc, java.util.function.UnaryOperator<String> render)
      throws IOException {
    String analysis = null;
    if (Files.exists(doc)) {
      String old = Files.readString(doc, StandardCharsets.UTF_8);
      int s = old.indexOf(START);
      int e = s < 0 ? -1 : old.indexOf(END, s);
      if (s >= 0 && e >= 0) {
        String section = old.substring(s, e);
        int a = section.indexOf(ANALYSIS_START);
        int z = a < 0 ? -1 : section.indexOf(ANALYSIS_END, a);
        if (a >= 0 && z >= 0) {
          analysis = section.substring(a + ANALYSIS_START.length(), z).strip();
        }
      }
    }
    BenchDoc.writeSection(doc, START, END, render.apply(analysis));
  }

  static String markdown(RepairBench.RunInfo info, List<RepairScenarioResult> results,
      String analysis) {
    StringBuilder b = new StringBuilder();
    b.append("## Repair scenarios on a real cluster (issue 6)\n\n");
    b.append("Written by `dev.arbor.bench.repair.RepairBench` (`bench/`) with `--update-doc`;"
        + " re-running it replaces this section but keeps the analysis block at its end.\n\n");
    b.append("| | |\n|---|---|\n");
    appendRunRows(b, info);
    appendClusterProcesses(b, info);
    b.append("; `").append(jarText(info)).append(" |\n");
    appendSetupRows(b, info);

    b.append("### Targets (100k × 2 KB, 3 data nodes, 1 shard)\n\n");
    b.append("| target | measured | verdict |\n|---|---|---|\n");
    for (Target t : TARGETS) {
      String[] cell = t.cell(results);
      b.append("| ").append(t.label()).append(" | ").append(cell[0]).append(" | ").append(cell[1])
          .append(" |\n");
    }
    b.append('\n');

    b.append("### Results\n\n");
    appendResults(b, info, results);
    appendAnalysis(b, analysis);
    return b.toString();
  }

  /** Command, date, commit, machine and Java rows of the setup table. */
  static void appendRunRows(StringBuilder b, RepairBench.RunInfo info) {
    MachineInfo m = info.machine();
    b.append("| command | `").append(info.command()).append("` (from the repository root) |\n");
    b.append("| date | ").append(info.started().truncatedTo(ChronoUnit.SECONDS))
        .append(String.format(Locale.ROOT, " (run took %.1f min) |%n", info.totalMillis() / 60000.0));
    b.append("| commit | ").append(m.commit()).append(" |\n");
    b.append("| machine | `nproc` = ").append(m.nproc()).append(", ").append(m.cpuModel())
        .append(", ").append(m.ram()).append(", ").append(m.os()).append(" |\n");
    b.append("| Java | ").append(m.java()).append(" |\n");
  }

  /** The start of the cluster row: the processes and their JVM flags (the caller ends it). */
  static void appendClusterProcesses(StringBuilder b, RepairBench.RunInfo info) {
    b.append("| cluster | separate processes on loopback: etcd, ").append(info.dataNodes())
        .append(" × `arbor data` (JVM `").append(String.join(" ", info.nodeJvmOpts()))
        .append("`, `--node-ttl` long enough that a killed node stays registered), 1 × `arbor liaison`"
            + " (JVM `").append(String.join(" ", info.liaisonJvmOpts())).append("`)");
  }

  /** The jar, when it was built, and how long its cluster took to start (without the row end). */
  static String jarText(RepairBench.RunInfo info) {
    return info.serverJar() + "`"
        + (info.serverJarBuilt() == null ? "" : " built "
            + info.serverJarBuilt().truncatedTo(ChronoUnit.SECONDS))
        + (info.serverJarChangedDuringRun() ? " (**rebuilt during the run**)" : "")
        + (info.transport() == null ? "" : "; " + info.transport())
        + String.format(Locale.ROOT, "; cluster ready %.1f s after launch",
            info.clusterStartMillis() / 1000.0);
  }

  /** The data, load, divergence and measurement rows, then the note on noise. */
  static void appendSetupRows(StringBuilder b, RepairBench.RunInfo info) {
    b.append("| data | one group per scenario: CATALOG_PROPERTY, 1 shard, ").append(info.copies())
        .append(" copies; each property a `data` STRING tag of *size* random characters (unique"
            + " per property) and a `ts` INT tag |\n");
    if ("internal".equals(info.load())) {
      b.append("| load | **via internal API: a setup shortcut; the repair measured is the same.**"
          + " The records the liaison would have stored (canonical `banyandb.property.v1.Property`"
          + " bytes: metadata group/name/create/mod revision, id, tags, updated_at; revisions from a"
          + " hybrid clock above the key's previous one, read from the replicas first; a delete"
          + " writes the tombstone of the same revision with a delete time) written straight to"
          + " the replicas with `arbor.cluster.v1.DataNodeService.Write`, ")
          .append(String.format(Locale.ROOT, "%,d", info.loadBatch()))
          .append(" records per call, ").append(info.loadBatches())
          .append(" batches in flight; the victim is killed exactly as with the public API and"
              + " simply does not receive the writes it would have missed |\n");
    } else {
      b.append("| load | through the liaison's public API with ").append(info.inFlight())
          .append(" async calls in flight (header `arbor-write-consistency`: `all` while every"
              + " replica is up, `one` while the victim is down) |\n");
    }
    b.append("| divergence | the *victim* (last replica in placement order) is SIGKILLed (its"
        + " registration survives) and started again on its data directory and ports before the"
        + " repair; see the table for what it missed |\n");
    b.append("| measurement | trees built on every replica first (`BuildTrees`), then"
        + " `RepairAdminService.RunRepair(group, all_shards)` on the first replica; *wall* = request"
        + " sent → last round outcome received (again if trees still differ, at most 3 calls);"
        + " bytes, sessions (hops), repaired counts from the streamed `HopResult`s; CPU = utime+stime"
        + " delta of each data node over the calls (`/proc/<pid>/stat`); peak RSS = `VmHWM`, reset"
        + " (`clear_refs`) just before the repair; *converged* = equal tree roots and leaf counts"
        + " after `BuildTrees` on every replica **and** every written key equal on every replica"
        + " (`DataNodeService.Read`: entity, mod_revision, delete_time, sha) |\n\n");
    b.append("> One run on a noisy, shared 2-core machine: all processes (etcd, ")
        .append(info.dataNodes()).append(" data nodes, liaison, the benchmark itself) share the"
            + " same cores. Not a median of several runs.\n\n");

  }

  /** The detailed results table of one build, the repeated calls, the footnote, the loading. */
  static void appendResults(StringBuilder b, RepairBench.RunInfo info,
      List<RepairScenarioResult> results) {
    b.append("*Diverged*: keys whose copies differed before the repair (checked, = what the scenario"
        + " meant to cause); *missing bytes*: serialized size of the newest copy of each. CPU and"
        + " peak RSS per data node in placement order of the scenario's replicas, then the other"
        + " node(s).\n\n");
    b.append("| scenario | properties | size | diverged | missing bytes | wall | rounds | sessions |"
        + " repair bytes (sent / received) | bytes per missing byte | repaired | CPU s per node |"
        + " CPU s total (with tree rebuild) | CPU µs per repaired property |"
        + " peak RSS MiB per node (anon before) | converged |\n");
    b.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|---|\n");
    for (RepairScenarioResult r : results) {
      List<String> order = new ArrayList<>(r.replicas());
      r.cpuSeconds().keySet().stream().filter(n -> !order.contains(n)).forEach(order::add);
      StringBuilder cpu = new StringBuilder();
      StringBuilder rss = new StringBuilder();
      for (String n : order) {
        String tag = n.equals(r.trigger()) ? "ᵗ" : n.equals(r.victim()) ? "ᵛ" : "";
        cpu.append(cpu.length() == 0 ? "" : ", ").append(n).append(tag).append(' ')
            .append(String.format(Locale.ROOT, "%.2f", r.cpuSeconds().getOrDefault(n, -1.0)));
        rss.append(rss.length() == 0 ? "" : ", ").append(n).append(' ')
            .append(mib(r.peakRssBytes().getOrDefault(n, -1L))).append(" (")
            .append(mib(r.rssAnonBeforeBytes().getOrDefault(n, -1L))).append(')');
      }
      b.append(String.format(Locale.ROOT,
          "| %s | %,d | %d B | %,d | %,d | %s | %d | %d | %,d (%,d / %,d) | %s | %,d | %s | %.2f (%.2f) | %s | %s | %s |%n",
          r.scenario(), r.properties(), r.sizeBytes(), r.divergedBefore(), r.missingBytes(),
          ms(r.wallMillis()), r.rounds(), r.hops(), r.repairBytes(), r.bytesSent(),
          r.bytesReceived(), fmt(r.bytesPerMissingByte(), 2), r.repaired(), cpu,
          r.cpuSecondsTotal(), r.cpuSecondsWithRebuildTotal(), fmt(r.cpuMicrosPerRepaired(), 0), rss,
          r.converged() ? "yes" : "**NO**" + (r.error() == null ? "" : " (" + r.error().replace("|", "\\|") + ")")));
    }
    for (RepairScenarioResult r : results) {
      if (!r.repeatWallMillis().isEmpty()) {
        b.append(String.format(Locale.ROOT, "%n`%s` at %,d: RunRepair called %d more times on the"
                + " identical replicas (warm: connections open, code compiled): %s ms.%n",
            r.scenario(), r.properties(), r.repeatWallMillis().size(),
            r.repeatWallMillis().stream().map(d -> String.format(Locale.ROOT, "%.1f", d)).toList()));
      }
    }
    b.append("\nᵗ repair triggered there, ᵛ the victim. Peak RSS scope: ")
        .append(results.stream().map(RepairScenarioResult::rssScope).distinct().toList())
        .append("; in parentheses the anonymous part (`RssAnon`: heap and other process memory)"
            + " just before the repair — the rest is file-backed (`RssFile`: mmapped index files,"
            + " i.e. page cache, which VmRSS and VmHWM count while resident).\n\n");
    b.append("Loading (not part of the measurement; via the ").append(info.load())
        .append(" API): ");
    List<String> loads = new ArrayList<>();
    for (RepairScenarioResult r : results) {
      loads.add(String.format(Locale.ROOT, "%s %,d writes in %.1f s", r.scenario(), r.writes(),
          r.loadMillis() / 1000.0));
    }
    b.append(String.join("; ", loads)).append(".\n\n");
  }

  /** The analysis block that {@code --update-doc} keeps. */
  static void appendAnalysis(StringBuilder b, String analysis) {
    b.append("### Analysis\n\n");
    b.append(ANALYSIS_START).append('\n');
    b.append(analysis == null || analysis.isBlank()
        ? "(No analysis yet: write it here; `--update-doc` keeps this block.)" : analysis);
    b.append('\n').append(ANALYSIS_END).append('\n');
  }

  /** A target of the issue: which scenario at which size, the bound, and what to show. */
  record Target(String scenario, int properties, String label,
      java.util.function.Predicate<RepairScenarioResult> met,
      java.util.function.Function<RepairScenarioResult, String> measured) {

    /** {measured, verdict} over one build's results. */
    String[] cell(List<RepairScenarioResult> results) {
      RepairScenarioResult hit = results.stream().filter(r -> r.scenario().equals(scenario)
          && r.properties() == properties && r.sizeBytes() == 2048).findFirst().orElse(null);
      if (hit == null) {
        List<String> ran = results.stream().filter(r -> r.scenario().equals(scenario))
            .map(r -> String.format(Locale.ROOT, "%s at %,d × %d B", measured.apply(r),
                r.properties(), r.sizeBytes())).toList();
        return new String[] {ran.isEmpty() ? "not run" : String.join("; ", ran),
            "not measured at the target size"};
      }
      return new String[] {measured.apply(hit),
          !hit.converged() ? "**did not converge**" : met.test(hit) ? "**met**" : "**missed**"};
    }
  }

  static final List<Target> TARGETS = List.of(
      new Target("full", 100_000, "full ≤ 2 s", r -> r.wallMillis() <= 2000,
          r -> ms(r.wallMillis())),
      new Target("half", 100_000, "half ≤ 1 s", r -> r.wallMillis() <= 1000,
          r -> ms(r.wallMillis())),
      new Target("same", 100_000, "same ≤ 50 ms per shard pair (verdict on the first call)",
          r -> r.wallMillis() / Math.max(1, r.copies() - 1) <= 50,
          r -> ms(r.wallMillis() / Math.max(1, r.copies() - 1)) + " per pair, first call"
              + (r.repeatWallMillis().isEmpty() ? "" : "; " + r.repeatWallMillis().size()
              + " repeated calls: median "
              + ms(r.repeatMedianMillis() / Math.max(1, r.copies() - 1)))),
      new Target("one-diff", 1_000_000, "one-diff at 1M ≤ 1 s and ≤ 64 KB of repair traffic",
          r -> r.wallMillis() <= 1000 && r.repairBytes() <= 64 * 1024,
          r -> ms(r.wallMillis()) + ", " + String.format(Locale.ROOT, "%,d B", r.repairBytes())));

  static String ms(double millis) {
    return millis >= 10_000 ? String.format(Locale.ROOT, "%.1f s", millis / 1000)
        : String.format(Locale.ROOT, "%.1f ms", millis);
  }

  static String fmt(double d, int places) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      return "-";
    }
    return String.format(Locale.ROOT, "%,." + places + "f", d);
  }

  static String mib(Long bytes) {
    return bytes == null || bytes < 0 ? "?" : String.format(Locale.ROOT, "%.0f", bytes / MIB);
  }
}
