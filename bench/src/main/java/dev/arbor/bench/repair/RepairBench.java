package dev.arbor.bench.repair;

import dev.arbor.bench.cluster.BenchPki;
import dev.arbor.bench.cluster.ClusterProcesses;
import dev.arbor.bench.cluster.ProcStats;
import dev.arbor.api.repair.v1.HopResult;
import dev.arbor.api.repair.v1.RoundOutcome;
import dev.arbor.bench.ApiBenchmark;
import dev.arbor.bench.MachineInfo;
import dev.arbor.bench.Rotation;
import dev.arbor.bench.ServerJar;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The repair scenario benchmark (issue 6): a real cluster of separate processes on loopback (etcd,
 * N {@code arbor data}, one {@code arbor liaison}), data loaded through the public API, a
 * divergence made by killing one replica during (part of) the writes, a repair round triggered on
 * another replica with {@code RepairAdminService.RunRepair}, and convergence verified by comparing
 * the replicas' trees and, at the end, every property. With several {@code --server-jar}s, one
 * such cluster per build, each scenario run on every build in turn. See {@code bench/README.md}.
 */
@Command(name = "repair", mixinStandardHelpOptions = true, sortOptions = false,
    version = "arbor-bench repair 0.1.0",
    description = {"Repair scenarios on a real multi-process cluster: full, half, same, one-diff, diffs@D,"
        + " deletes.",
        "Old vs new in one run: --server-jar old=OLD.jar --server-jar new=NEW.jar."})
public final class RepairBench implements Callable<Integer> {
  static final String BUILD_COMMAND = "./mvnw -B -q -DskipTests package";
  static final String RUN_COMMAND = "java -jar bench/target/arbor-bench.jar repair";

  @Spec CommandSpec spec;

  @Option(names = "--scenario", split = ",", defaultValue = "all", paramLabel = "NAME[@N]",
      description = "Scenarios: full, half, same, one-diff, deletes or all; NAME@N runs NAME with N"
          + " properties (e.g. one-diff@1000000); diffs@D (not in all) updates D properties spread over"
          + " the shard while the victim is down (N from --properties) (default: ${DEFAULT-VALUE}).")
  List<String> scenarios;

  @Option(names = "--properties", defaultValue = "100000",
      description = "Properties per scenario (default: ${DEFAULT-VALUE}; quick: 2000).")
  int properties;

  @Option(names = "--size", defaultValue = "2048",
      description = "Characters of each property's `data` tag (default: ${DEFAULT-VALUE}; quick: 256).")
  int size;

  @Option(names = "--copies", defaultValue = "2",
      description = "Copies of the group's shard (replicas + 1) (default: ${DEFAULT-VALUE}).")
  int copies;

  @Option(names = "--data-nodes", defaultValue = "3",
      description = "Data node processes (default: ${DEFAULT-VALUE}).")
  int dataNodes;

  @Option(names = "--out", paramLabel = "FILE", defaultValue = "repair-bench.json",
      description = "JSON result file (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--update-doc", paramLabel = "FILE",
      description = "Rewrite the section between <!-- repair-bench:start/end --> of this markdown"
          + " file (e.g. docs/benchmarks.md), keeping its analysis block and the rest of the file.")
  Path updateDoc;

  @Option(names = "--quick",
      description = "Small sizes (2,000 properties x 256 B, every scenario, small node heaps),"
          + " under a minute; options given explicitly still apply.")
  boolean quick;

  /** How a scenario's data gets onto the replicas (not part of the measurement). */
  enum LoadMode {
    /** One Apply / Delete per property through the liaison's public API. */
    PUBLIC,
    /**
     * Batches of the records the liaison would have stored, written straight to the replicas'
     * DataNodeService.Write ({@link InternalLoader}): a setup shortcut, the repair is the same.
     */
    INTERNAL;

    String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  @Option(names = "--load", defaultValue = "public", paramLabel = "public|internal",
      converter = LoadModeConverter.class,
      description = "How the data is loaded: `public` = one write per property through the"
          + " liaison's public API; `internal` = the same records (canonical bytes, hybrid-clock"
          + " revisions, tombstones) written in batches straight to the replicas with"
          + " DataNodeService.Write, the victim not receiving what it would have missed: a setup"
          + " shortcut, the repair measured is the same (default: ${DEFAULT-VALUE}).")
  LoadMode load;

  @Option(names = "--in-flight", defaultValue = "256",
      description = "Concurrent async writes while loading with --load public: enough to keep"
          + " every replica's write path busy while each apply waits for its round trips"
          + " (default: ${DEFAULT-VALUE}).")
  int inFlight;

  @Option(names = "--load-channels", defaultValue = "4",
      description = "Connections to the liaison the --load public writes round-robin over: one"
          + " HTTP/2 connection is served by one event loop on each side (default: ${DEFAULT-VALUE}).")
  int loadChannels;

  @Option(names = "--load-batch", defaultValue = "2000", paramLabel = "N",
      description = "Records per DataNodeService.Write call with --load internal"
          + " (default: ${DEFAULT-VALUE}).")
  int loadBatch;

  @Option(names = "--load-batches", defaultValue = "3", paramLabel = "N",
      description = "Batches in flight with --load internal (default: ${DEFAULT-VALUE}).")
  int loadBatches;

  @Option(names = "--repair-timeout", defaultValue = "600", paramLabel = "SECONDS",
      description = "timeout_ms of each RunRepair call (default: ${DEFAULT-VALUE}).")
  int repairTimeoutSeconds;

  @Option(names = "--max-rounds", defaultValue = "3",
      description = "RunRepair calls per scenario while the trees still differ after a completed"
          + " round (default: ${DEFAULT-VALUE}).")
  int maxCalls;

  @Option(names = "--same-repeats", defaultValue = "5",
      description = "In the `same` scenario, call RunRepair this many more times after the measured"
          + " call and report their wall times too (warm: connections open, code compiled)"
          + " (default: ${DEFAULT-VALUE}).")
  int sameRepeats;

  @Option(names = "--diff-repeats", defaultValue = "0", paramLabel = "N",
      description = "In diffs@D with --load internal, after the measured round: N more times, update"
          + " the same D properties again on the trigger node only (both nodes up, their JVMs warm) and"
          + " run a round; each round's wall and CPU are logged (not in the report). Shows how much of"
          + " the first round is a cold start (default: ${DEFAULT-VALUE}).")
  int diffRepeats;

  @Option(names = "--node-jvm-opts", paramLabel = "OPTS",
      defaultValue = "-Xmx1g -XX:+UseG1GC",
      description = "JVM options of each data node (default: ${DEFAULT-VALUE};"
          + " quick: -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1).")
  String nodeJvmOpts;

  @Option(names = "--liaison-jvm-opts", paramLabel = "OPTS",
      defaultValue = "-Xmx1g -XX:+UseG1GC",
      description = "JVM options of the liaison (default: ${DEFAULT-VALUE};"
          + " quick: -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1).")
  String liaisonJvmOpts;

  @Option(names = "--node-ttl", defaultValue = "2h",
      description = "--node-ttl of the data nodes: a killed node stays registered this long"
          + " (default: ${DEFAULT-VALUE}).")
  String nodeTtl;

  @Option(names = "--node-arg", paramLabel = "ARG",
      description = "Extra argument of every `arbor data` (repeatable; default: --repair-schedule off,"
          + " so no scheduled round interferes).")
  List<String> nodeArgs = new ArrayList<>(List.of("--repair-schedule", "off"));

  @Option(names = "--startup-timeout", defaultValue = "120", paramLabel = "SECONDS",
      description = "Bound on a process becoming ready (default: ${DEFAULT-VALUE}).")
  int startupTimeoutSeconds;

  @Option(names = "--repo", paramLabel = "DIR",
      description = "Repository root (default: found from the jar's or the working directory).")
  Path repo;

  @Option(names = "--server-jar", paramLabel = "[LABEL=]JAR",
      description = "Server jar (default: <repo>/server/target/arbor.jar). Repeat it to compare"
          + " builds in one run, e.g. --server-jar old=/tmp/old-main/server/target/arbor.jar"
          + " --server-jar new=server/target/arbor.jar: one cluster per build (all up for the whole"
          + " run), each scenario run on every build in turn (order rotating) with identical"
          + " parameters and seed; tables with a column per build and the ratio of each later"
          + " build to the first (the baseline).")
  List<String> serverJars = new ArrayList<>();

  @Option(names = "--tls-builds", split = ",", paramLabel = "LABEL",
      description = "Builds (--server-jar labels) whose clusters run with TLS: a CA and one"
          + " certificate per node id are generated with `openssl` into the work directory; mutual"
          + " TLS between the liaison and the data nodes and among the data nodes, TLS on the data"
          + " nodes' admin ports and the liaison's public port (etcd stays plaintext); the bench's"
          + " own calls verify the CA. Give the same jar twice to measure the cost of TLS, e.g."
          + " --server-jar plain=server/target/arbor.jar --server-jar tls=server/target/arbor.jar"
          + " --tls-builds tls.")
  List<String> tlsBuilds = new ArrayList<>();

  @Option(names = "--work-dir", paramLabel = "DIR",
      description = "Where the cluster's data and logs go (default: a new temp directory).")
  Path workDirOption;

  @Option(names = "--keep-data", description = "Keep the work directory (data, logs) at the end.")
  boolean keepData;

  @Option(names = "--seed", defaultValue = "42", description = "Seed of the payload generator.")
  long seed;

  static final class LoadModeConverter implements CommandLine.ITypeConverter<LoadMode> {
    @Override
    public LoadMode convert(String value) {
      for (LoadMode m : LoadMode.values()) {
        if (m.label().equalsIgnoreCase(value.trim())) {
          return m;
        }
      }
      throw new CommandLine.TypeConversionException("expected public or internal, got '" + value
          + "'");
    }
  }

  private String[] originalArgs = new String[0];
  /** Every scenario's result, of every build, in the order run. */
  private final List<RepairScenarioResult> results = new ArrayList<>();
  /** Several builds in this run: log lines and tables name the build. */
  private boolean several;
  /** The builds of --tls-builds. */
  private Set<String> tlsLabels = Set.of();

  /** What the run as a whole was. */
  record RunInfo(Instant started, long totalMillis, String command, MachineInfo machine,
      String serverJar, Instant serverJarBuilt, List<String> nodeJvmOpts,
      List<String> liaisonJvmOpts, int dataNodes, int copies, int inFlight, String load,
      int loadBatch, int loadBatches, long clusterStartMillis, boolean quick, String workDir,
      boolean serverJarChangedDuringRun, String transport) {
    /** A run without --tls-builds: {@code transport} null (not reported). */
    RunInfo(Instant started, long totalMillis, String command, MachineInfo machine,
        String serverJar, Instant serverJarBuilt, List<String> nodeJvmOpts,
        List<String> liaisonJvmOpts, int dataNodes, int copies, int inFlight, String load,
        int loadBatch, int loadBatches, long clusterStartMillis, boolean quick, String workDir,
        boolean serverJarChangedDuringRun) {
      this(started, totalMillis, command, machine, serverJar, serverJarBuilt, nodeJvmOpts,
          liaisonJvmOpts, dataNodes, copies, inFlight, load, loadBatch, loadBatches,
          clusterStartMillis, quick, workDir, serverJarChangedDuringRun, null);
    }
  }

  /** What {@code transport} says of a TLS build and of a plaintext one in a run comparing them. */
  static final String TLS_TRANSPORT = "**TLS**: mutual TLS between the liaison and the data nodes"
      + " and among the data nodes (one certificate per node id from a CA generated for the run),"
      + " TLS on the data nodes' admin ports and the liaison's public port; etcd plaintext";
  static final String PLAIN_TRANSPORT = "plaintext";

  /** @param diffs D of {@code diffs@D} (0 for the other scenarios) */
  private record Planned(Scenario scenario, int properties, int diffs) {
    String label() {
      return scenario == Scenario.DIFFS ? scenario.label + "@" + diffs : scenario.label;
    }
  }

  /** One build's run: what the run was on it, and its scenarios' results. */
  record BuildOutcome(String label, RunInfo info, List<RepairScenarioResult> results) {}

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line (without exiting) and returns the exit code. */
  public static int execute(String... args) {
    RepairBench bench = new RepairBench();
    bench.originalArgs = args.clone();
    return new CommandLine(bench).execute(args);
  }

  /** The results of the last run (for tests). */
  List<RepairScenarioResult> results() {
    return List.copyOf(results);
  }

  private boolean explicitlySet(String option) {
    return spec.commandLine().getParseResult().hasMatchedOption(option);
  }

  private void applyQuickDefaults() {
    if (!quick) {
      return;
    }
    String small = "-Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1";
    if (!explicitlySet("--properties")) properties = 2000;
    if (!explicitlySet("--size")) size = 256;
    if (!explicitlySet("--node-jvm-opts")) nodeJvmOpts = small;
    if (!explicitlySet("--liaison-jvm-opts")) liaisonJvmOpts = small;
    if (!explicitlySet("--repair-timeout")) repairTimeoutSeconds = 60;
  }

  private List<Planned> plan() {
    List<Planned> planned = new ArrayList<>();
    for (String item : scenarios) {
      String s = item.trim();
      if (s.isEmpty()) {
        continue;
      }
      int n = properties;
      int diffs = 0;
      int at = s.indexOf('@');
      if (at >= 0) {
        int v = Integer.parseInt(s.substring(at + 1).replace("_", ""));
        s = s.substring(0, at);
        // diffs@D names the differences; the properties come from --properties.
        if (s.equalsIgnoreCase(Scenario.DIFFS.label)) {
          diffs = v;
        } else {
          n = v;
        }
      }
      if (s.equalsIgnoreCase("all")) {
        for (Scenario x : Scenario.values()) {
          if (x != Scenario.DIFFS) {
            planned.add(new Planned(x, n, 0));
          }
        }
      } else if (s.equalsIgnoreCase(Scenario.DIFFS.label) && at < 0) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "scenario diffs needs a count: diffs@D (e.g. diffs@1000)");
      } else {
        planned.add(new Planned(Scenario.parse(s), n, diffs));
      }
    }
    return planned;
  }

  private void validate(List<Planned> planned) {
    CommandLine cl = spec.commandLine();
    if (planned.isEmpty()) {
      throw new CommandLine.ParameterException(cl, "no scenario selected");
    }
    if (planned.stream().anyMatch(p -> p.scenario() == Scenario.DIFFS && (p.diffs() < 1 || p.diffs() > p.properties()))) {
      throw new CommandLine.ParameterException(cl, "diffs@D needs 1 <= D <= --properties");
    }
    if (planned.stream().anyMatch(p -> p.properties() < 2)) {
      throw new CommandLine.ParameterException(cl, "--properties must be >= 2");
    }
    if (size < 1 || inFlight < 1 || loadChannels < 1 || maxCalls < 1 || repairTimeoutSeconds < 1 || loadBatch < 1
        || loadBatches < 1) {
      throw new CommandLine.ParameterException(cl, "sizes, counts and timeouts must be positive");
    }
    if (copies < 2 || copies > dataNodes) {
      throw new CommandLine.ParameterException(cl,
          "--copies must be between 2 and --data-nodes (" + dataNodes + ")");
    }
  }

  @Override
  public Integer call() throws Exception {
    Instant started = Instant.now();
    long t0 = System.nanoTime();
    applyQuickDefaults();
    List<Planned> planned;
    try {
      planned = plan();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    validate(planned);
    Path root = repo != null ? repo.toAbsolutePath().normalize() : ApiBenchmark.findRepo();
    List<ServerJar> jars;
    try {
      jars = ServerJar.parseAll(serverJars, root);
      tlsLabels = ServerJar.tlsLabels(tlsBuilds, jars);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    several = jars.size() > 1;
    List<String> nodeOpts = split(nodeJvmOpts);
    List<String> liaisonOpts = split(liaisonJvmOpts);
    String command = BUILD_COMMAND + " && " + RUN_COMMAND
        + (originalArgs.length == 0 ? "" : " " + ApiBenchmark.shellQuote(originalArgs));
    MachineInfo machine = MachineInfo.collect(root);

    Path workDir = workDirOption != null
        ? Files.createDirectories(workDirOption.toAbsolutePath())
        : Files.createTempDirectory("arbor-repair-bench-");
    log("server jar%s %s; work dir %s; %d data nodes, %d copies; scenarios %s; load via %s API%s",
        several ? "s" : "", several ? jars.stream().map(j -> j.label() + "=" + j.jar()).toList()
            : jars.get(0).jar(), workDir, dataNodes, copies,
        planned.stream().map(p -> p.label() + "@" + p.properties()).toList(),
        load.label(), load == LoadMode.INTERNAL
            ? String.format(" (%d records per Write, %d batches in flight)", loadBatch, loadBatches)
            : String.format(" (%d calls in flight over %d connections)", inFlight, loadChannels));
    String fatal = null;
    results.clear();
    List<BuildCluster> clusters = new ArrayList<>();
    try {
      for (ServerJar jar : jars) {
        // One build: the work directory itself, as before; several: a subdirectory each.
        Path dir = several ? Files.createDirectories(workDir.resolve(jar.label())) : workDir;
        clusters.add(startCluster(jar, dir, nodeOpts, liaisonOpts));
      }
      for (int i = 0; i < planned.size(); i++) {
        Planned p = planned.get(i);
        String group = "rb_" + p.scenario().label.replace('-', '_') + "_" + (i + 1);
        for (BuildCluster b : Rotation.rotate(clusters, i)) {
          RepairScenarioResult r = new ScenarioRun(b, p.scenario(), p.properties(), p.diffs(), group).run();
          b.results().add(r);
          results.add(r);
          System.out.println();
          System.out.println((several ? "[" + b.label() + "] " : "") + RepairReport.table(r));
          System.out.flush();
        }
      }
    } catch (Exception e) {
      fatal = e.toString();
      log("FATAL: %s", e);
      e.printStackTrace(System.out);
    } finally {
      for (int i = clusters.size() - 1; i >= 0; i--) {
        clusters.get(i).close();
      }
      boolean allConverged = fatal == null && results.stream().allMatch(RepairScenarioResult::converged);
      if (!keepData && allConverged) {
        deleteRecursively(workDir);
      } else {
        log("kept data and logs under %s%s", workDir, keepData ? "" : " (for inspection: not every"
            + " scenario converged)");
      }
    }
    long totalMillis = (System.nanoTime() - t0) / 1_000_000;
    List<BuildOutcome> outcomes = new ArrayList<>();
    for (int k = 0; k < jars.size(); k++) {
      // A build whose cluster did not start still gets its (empty) outcome, reported as failed.
      BuildCluster b = k < clusters.size() ? clusters.get(k) : null;
      Path jar = jars.get(k).jar();
      Instant jarBuilt = b != null ? b.jarBuilt() : modified(jar);
      Instant jarNow = modified(jar);
      boolean jarChanged = jarBuilt != null && !jarBuilt.equals(jarNow);
      if (jarChanged) {
        // A restarted victim may have run other code than the nodes started before.
        log("WARNING: %s changed during the run (%s -> %s): figures may mix two builds", jar,
            jarBuilt, jarNow);
      }
      RunInfo info = new RunInfo(started, totalMillis, command, machine, relativize(root, jar),
          jarBuilt, nodeOpts, liaisonOpts, dataNodes, copies, inFlight, load.label(),
          loadBatch, loadBatches, b == null ? -1 : b.cluster().startMillis(), quick,
          Files.exists(workDir) ? workDir.toString() : null, jarChanged,
          tlsLabels.isEmpty() ? null
              : tlsLabels.contains(jars.get(k).label()) ? TLS_TRANSPORT : PLAIN_TRANSPORT);
      outcomes.add(new BuildOutcome(jars.get(k).label(), info,
          b == null ? List.of() : List.copyOf(b.results())));
    }
    report(outcomes, fatal);
    boolean ok = fatal == null
        && outcomes.stream().allMatch(o -> o.results().size() == planned.size())
        && results.stream().allMatch(RepairScenarioResult::converged);
    log("done in %.1f s: %s", totalMillis / 1000.0, ok ? "every scenario converged"
        : fatal != null ? "failed: " + fatal : "NOT every scenario converged");
    return ok ? 0 : 1;
  }

  /** Starts one build's cluster, its loaders and its probe group. */
  private BuildCluster startCluster(ServerJar jar, Path dir, List<String> nodeOpts,
      List<String> liaisonOpts) throws Exception {
    Instant jarBuilt = modified(jar.jar());
    BenchPki pki = tlsLabels.contains(jar.label()) ? BenchPki.create(dir.resolve("pki")) : null;
    ClusterProcesses cluster = ClusterProcesses.start(jar.jar(), dir, dataNodes, nodeOpts,
        liaisonOpts, nodeTtl, nodeArgs, List.of(), pki, Duration.ofSeconds(startupTimeoutSeconds));
    DataLoader loader = null;
    InternalLoader internal = null;
    try {
      List<io.grpc.ManagedChannel> channels = new ArrayList<>();
      for (int c = 0; c < loadChannels; c++) {
        channels.add(cluster.publicChannels()
            .open(cluster.liaison().grpcTarget(), ClusterProcesses.MAX_MESSAGE));
      }
      loader = new DataLoader(cluster.liaisonChannel(), channels, inFlight, size, seed);
      internal = load == LoadMode.INTERNAL
          ? new InternalLoader(cluster, loader, loadBatch, loadBatches) : null;
      log("%scluster ready in %.1f s%s: etcd, %s, liaison %s", several ? jar.label() + ": " : "",
          cluster.startMillis() / 1000.0, pki == null ? "" : " (TLS, CA " + pki.caFile() + ")",
          cluster.dataNodeIds().stream().map(id -> id + "@" + cluster.dataNode(id).grpcTarget()
              + " pid " + cluster.dataNode(id).pid()).toList(), cluster.liaison().grpcTarget());
      // A group on every data node: a write to it with consistency `all` succeeds only once the
      // liaison reaches every node again (after a restart).
      String probe = "rb_probe";
      loader.createGroup(probe, cluster.dataNodeIds().size());
      if (internal != null) {
        loader.awaitAllReachable(probe, 120_000);
        internal.checkEncodingAgainstLiaison(cluster.dataNodeIds().get(0), probe, 0);
        log("--load internal: a property stored by the liaison re-encodes to the same bytes and"
            + " hash (%,d records per DataNodeService.Write, %d batches in flight)", loadBatch,
            loadBatches);
      }
      return new BuildCluster(jar, jarBuilt, cluster, loader, internal, probe);
    } catch (Exception | Error e) {
      if (internal != null) {
        internal.close();
      }
      if (loader != null) {
        loader.close();
      }
      cluster.close();
      throw e;
    }
  }

  /** Tables on stdout, the JSON file and the doc section: one build's, or the comparison. */
  private void report(List<BuildOutcome> outcomes, String fatal) throws IOException {
    if (outcomes.size() == 1) {
      BuildOutcome o = outcomes.get(0);
      System.out.println();
      System.out.println(RepairReport.summary(o.results()));
      if (out != null) {
        RepairReport.writeJson(out, o.info(), o.results(), fatal);
        log("wrote %s", out.toAbsolutePath());
      }
      if (updateDoc != null && fatal == null) {
        RepairReport.updateDoc(updateDoc, o.info(), o.results());
        log("updated the repair-bench section of %s", updateDoc);
      }
      return;
    }
    for (BuildOutcome o : outcomes) {
      System.out.println();
      String transport = o.info().transport() == null ? ""
          : TLS_TRANSPORT.equals(o.info().transport()) ? " (TLS)" : " (plaintext)";
      System.out.println("build " + o.label() + transport + ": " + RepairReport.summary(o.results()));
    }
    System.out.println(RepairComparisonReport.figures(outcomes));
    if (out != null) {
      RepairReport.writeComparisonJson(out, outcomes, fatal);
      log("wrote %s", out.toAbsolutePath());
    }
    if (updateDoc != null && fatal == null) {
      RepairReport.updateDoc(updateDoc,
          analysis -> RepairComparisonReport.markdown(outcomes, analysis));
      log("updated the repair-bench section of %s (%s)", updateDoc,
          outcomes.stream().map(BuildOutcome::label).toList());
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** One scenario on one build's cluster, in its own group. */
  private final class ScenarioRun {
    private final BuildCluster build;
    private final ClusterProcesses cluster;
    private final DataLoader loader;
    private final InternalLoader internal;
    private final String probe;
    private final Scenario scenario;
    private final int n;
    private final int diffs;
    private final String label;
    private final String group;
    private final ConvergenceCheck check;

    private List<String> replicas = List.of();
    private String victim;
    private String trigger;
    private long loadMillis;
    private long writes;
    private long loadRetries;
    private ConvergenceCheck.Trees treesBefore;
    private ConvergenceCheck.Diff diffBefore;
    private long wallNanos;
    private int calls;
    private final List<HopResult> hops = new ArrayList<>();
    private final List<RoundOutcome> outcomes = new ArrayList<>();
    private final Map<String, Long> cpuNanos = new LinkedHashMap<>();
    private final Map<String, Long> cpuWithRebuildNanos = new LinkedHashMap<>();
    private final List<Double> repeatWallMillis = new ArrayList<>();
    private final Map<String, Long> peakRss = new LinkedHashMap<>();
    private final Map<String, Long> rssBefore = new LinkedHashMap<>();
    private final Map<String, Long> rssAnonBefore = new LinkedHashMap<>();
    private final Map<String, Long> rssFileBefore = new LinkedHashMap<>();
    private String rssScope = "repair";
    private ConvergenceCheck.Trees treesAfter;
    private long differingAfter = -1;
    private long verifyMillis;
    private long repairStartUnixMs;
    private List<RepairTrigger.SpanLine> trace = List.of();
    private String error;

    ScenarioRun(BuildCluster build, Scenario scenario, int n, int diffs, String group) {
      this.diffs = diffs;
      this.label = scenario == Scenario.DIFFS ? scenario.label + "@" + diffs : scenario.label;
      this.build = build;
      this.cluster = build.cluster();
      this.loader = build.loader();
      this.internal = build.internal();
      this.probe = build.probe();
      this.scenario = scenario;
      this.n = n;
      this.group = group;
      this.check = new ConvergenceCheck(cluster);
    }

    RepairScenarioResult run() {
      log("== scenario %s%s: %,d properties x %d B, group %s: %s", label,
          several ? " on build " + build.label() : "", n, size, group, scenario.description);
      try {
        loader.awaitAllReachable(probe, 120_000);
        loader.createGroup(group, copies);
        replicas = cluster.placement(group, 0, copies);
        trigger = replicas.get(0);
        victim = replicas.get(replicas.size() - 1);
        log("replicas %s (placement order); repair triggered on %s; victim %s", replicas, trigger,
            victim);
        diverge();
        prepare();
        repair();
        verify();
      } catch (Exception e) {
        error = e.toString();
        log("scenario %s failed: %s", label, e);
        ensureVictimRunning();
      }
      RepairScenarioResult r = result();
      if (!keepData && r.converged()) {
        // Frees the disk for the next scenario; a group that did not converge stays for inspection.
        try {
          loader.deleteGroup(group);
        } catch (RuntimeException e) {
          log("could not delete group %s: %s", group, e);
        }
      }
      return r;
    }

    private void diverge() throws Exception {
      List<Integer> all = range(0, n);
      switch (scenario) {
        case FULL -> {
          cluster.kill(victim);
          load(all, "one");
        }
        case HALF -> {
          load(range(0, n / 2), "all");
          cluster.kill(victim);
          load(range(n / 2, n), "one");
        }
        case SAME -> load(all, "all");
        case ONE_DIFF -> {
          load(all, "all");
          // A long-running node's trees exist before it goes down: built here, outside the measured
          // round, so the round after the victim's restart shows what the restart costs (a live tree
          // resumed from its journal, or a rebuild on builds that keep no journal).
          log("trees before the victim goes down: %s", check.trees(replicas, group).describe());
          cluster.kill(victim);
          account(apply(List.of(n / 2), 2, "one"));
        }
        case DIFFS -> {
          load(all, "all");
          log("trees before the victim goes down: %s", check.trees(replicas, group).describe());
          cluster.kill(victim);
          List<Integer> updated = Scenario.spread(n, diffs);
          DataLoader.LoadStats s = apply(updated, 2, "one");
          account(s);
          log("updated %,d properties spread over the shard in %.1f s with %s down", updated.size(),
              s.millis() / 1000.0, victim);
        }
        case DELETES -> {
          load(all, "all");
          cluster.kill(victim);
          List<Integer> deleted = IntStream.range(0, n).filter(i -> i % 10 == 0).boxed().toList();
          DataLoader.LoadStats s = delete(deleted, "one");
          account(s);
          log("deleted %,d properties in %.1f s with %s down", deleted.size(), s.millis() / 1000.0,
              victim);
        }
        default -> throw new IllegalStateException(scenario.toString());
      }
      ensureVictimRunning();
    }

    private void load(List<Integer> indexes, String consistency) throws InterruptedException {
      DataLoader.LoadStats s = apply(indexes, 1, consistency);
      account(s);
      log("loaded %,d properties in %.1f s (%,.0f ops/s, %d retries, %s%s)",
          s.requested(), s.millis() / 1000.0, s.opsPerSecond(), s.retries(),
          internal == null ? "public API, consistency " + consistency
              : "internal API to " + targets(consistency),
          cluster.dataNode(victim).alive() ? "" : ", " + victim + " down");
    }

    /**
     * Public: through the liaison with the consistency header. Internal: straight to the replicas
     * that are up (every replica for `all`, all but the killed victim for `one`).
     */
    private DataLoader.LoadStats apply(List<Integer> indexes, int version, String consistency)
        throws InterruptedException {
      return internal == null ? loader.apply(group, indexes, version, consistency)
          : internal.apply(group, targets(consistency), indexes, version);
    }

    private DataLoader.LoadStats delete(List<Integer> indexes, String consistency)
        throws InterruptedException {
      return internal == null ? loader.delete(group, indexes, consistency)
          : internal.delete(group, targets(consistency), indexes);
    }

    /** The replicas that are up; for `all` that must be every replica. */
    private List<String> targets(String consistency) {
      List<String> up = replicas.stream().filter(id -> cluster.dataNode(id).alive()).toList();
      if (consistency.equals("all") && up.size() != replicas.size()) {
        throw new IllegalStateException("a write with every replica up, but only " + up + " of "
            + replicas + " run");
      }
      if (consistency.equals("one") && up.contains(victim)) {
        throw new IllegalStateException("a write the victim must miss, but " + victim + " runs");
      }
      return up;
    }

    private void account(DataLoader.LoadStats s) {
      loadMillis += s.millis();
      writes += s.requested();
      loadRetries += s.retries();
    }

    private void ensureVictimRunning() {
      if (victim != null && !cluster.dataNode(victim).alive()) {
        long t = System.nanoTime();
        try {
          cluster.restart(victim);
          log("restarted %s in %.1f s (pid %d)", victim, (System.nanoTime() - t) / 1e9,
              cluster.dataNode(victim).pid());
        } catch (IOException e) {
          throw new IllegalStateException("could not restart " + victim + ": " + e.getMessage(), e);
        }
      }
    }

    /** Builds every replica's tree (so the round compares current trees) and measures the gap. */
    private void prepare() {
      treesBefore = check.trees(replicas, group);
      diffBefore = check.properties(replicas, group, n);
      log("before repair: trees %s (%s; built in %d ms); %,d of %,d keys differ (%,d bytes),"
              + " held %s (checked in %d ms)%s",
          treesBefore.equal() ? "EQUAL" : "differ", treesBefore.describe(), treesBefore.wallMs(),
          diffBefore.differing(), diffBefore.keys(), diffBefore.bytes(), diffBefore.heldByNode(),
          diffBefore.wallMs(), diffBefore.examples().isEmpty() ? "" : "; e.g. " + diffBefore.examples());
      long expected = scenario.expectedDiverged(n, diffs);
      if (diffBefore.differing() != expected) {
        log("WARNING: %,d keys differ before the repair, expected %,d", diffBefore.differing(),
            expected);
      }
    }

    private void repair() {
      for (String id : cluster.dataNodeIds()) {
        long pid = cluster.dataNode(id).pid();
        rssBefore.put(id, ProcStats.rssBytes(pid));
        rssAnonBefore.put(id, ProcStats.rssAnonBytes(pid));
        rssFileBefore.put(id, ProcStats.rssFileBytes(pid));
        if (!ProcStats.resetPeakRss(pid)) {
          rssScope = "process lifetime";
        }
        cpuNanos.put(id, 0L);
      }
      repairStartUnixMs = System.currentTimeMillis() - 1000;
      Map<String, Long> start = cpuSample();
      try {
        repairCalls();
      } finally {
        // Includes the tree rebuilds a session schedules once it stored data (asynchronous on the
        // nodes), which the verification's BuildTrees waits for.
        Map<String, Long> end = cpuSample();
        end.forEach((id, v) -> cpuWithRebuildNanos.put(id,
            v < 0 || start.get(id) < 0 ? 0 : v - start.get(id)));
      }
      if (error == null && scenario == Scenario.DIFFS && diffRepeats > 0 && treesAfter.equal()) {
        repeatDiffs();
      }
      if (error == null && scenario == Scenario.SAME && sameRepeats > 0 && treesAfter.equal()) {
        for (int i = 0; i < sameRepeats; i++) {
          RepairTrigger.Run run = RepairTrigger.run(cluster.adminChannel(trigger), trigger, group,
              repairTimeoutSeconds * 1000L);
          if (!run.completed()) {
            log("repeat RunRepair failed: %s %s", run.error(), run.outcomes());
            break;
          }
          repeatWallMillis.add(run.wallNanos() / 1e6);
        }
        List<Double> sorted = repeatWallMillis.stream().sorted().toList();
        if (!sorted.isEmpty()) {
          log("RunRepair repeated %d times on identical replicas: min %.1f ms, median %.1f ms, max"
                  + " %.1f ms", sorted.size(), sorted.get(0), sorted.get(sorted.size() / 2),
              sorted.get(sorted.size() - 1));
        }
      }
    }

    /** --diff-repeats: the same D properties updated again on the trigger only, then a round, N times. */
    private void repeatDiffs() {
      if (internal == null) {
        log("--diff-repeats needs --load internal (a write to one replica while both run); skipped");
        return;
      }
      List<Integer> updated = Scenario.spread(n, diffs);
      for (int i = 0; i < diffRepeats; i++) {
        try {
          internal.apply(group, List.of(trigger), updated, 3 + i);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        Map<String, Long> cpu0 = cpuSample();
        RepairTrigger.Run run = RepairTrigger.run(cluster.adminChannel(trigger), trigger, group,
            repairTimeoutSeconds * 1000L);
        Map<String, Long> cpu1 = cpuSample();
        double cpu = 0;
        StringBuilder perNode = new StringBuilder();
        for (var e : cpu1.entrySet()) {
          long d = e.getValue() < 0 || cpu0.get(e.getKey()) < 0 ? 0 : e.getValue() - cpu0.get(e.getKey());
          cpu += d / 1e9;
          perNode.append(perNode.length() == 0 ? "" : ", ").append(e.getKey())
              .append(String.format(java.util.Locale.ROOT, " %.3f", d / 1e9));
        }
        long sent = run.hops().stream().mapToLong(HopResult::getBytesSent).sum();
        long received = run.hops().stream().mapToLong(HopResult::getBytesReceived).sum();
        log("diff repeat %d (%,d properties updated on %s only, warm JVMs): %.1f ms, CPU %.3f s (%s), %,d B"
                + " sent / %,d B received, outcome(s) %s", i + 1, updated.size(), trigger,
            run.wallNanos() / 1e6, cpu, perNode, sent, received,
            run.outcomes().stream().map(RoundOutcome::getStatus).toList());
        if (!run.completed()) {
          return;
        }
      }
    }

    private void repairCalls() {
      while (calls < maxCalls) {
        calls++;
        Map<String, Map<ProcStats.ThreadKind, Long>> byKind0 = cpuByThreadKind();
        Map<String, Long> cpu0 = cpuSample();
        RepairTrigger.Run run = RepairTrigger.run(cluster.adminChannel(trigger), trigger, group,
            repairTimeoutSeconds * 1000L);
        Map<String, Long> cpu1 = cpuSample();
        Map<String, Map<ProcStats.ThreadKind, Long>> byKind1 = cpuByThreadKind();
        cpu1.forEach((id, v) -> cpuNanos.merge(id, v < 0 || cpu0.get(id) < 0 ? 0 : v - cpu0.get(id),
            Long::sum));
        wallNanos += run.wallNanos();
        hops.addAll(run.hops());
        outcomes.addAll(run.outcomes());
        log("RunRepair #%d on %s: %.1f ms, ring %s, %d hop(s), outcome(s) %s%s", calls, trigger,
            run.wallNanos() / 1e6, run.ring(), run.hops().size(),
            run.outcomes().stream().map(o -> o.getStatus()
                + (o.getMessage().isEmpty() ? "" : " (" + o.getMessage() + ")")).toList(),
            run.error() == null ? "" : ", error " + run.error());
        // A node restarted just before the round compiles most of its code during it: the JIT's
        // share says how much of a CPU figure is warm-up rather than per-property work.
        log("  CPU during the call by thread (JIT compilers / GC and VM thread / the rest): %s",
            String.join(", ", byKind1.keySet().stream().map(id -> {
              Map<ProcStats.ThreadKind, Long> a = byKind0.getOrDefault(id, Map.of());
              Map<ProcStats.ThreadKind, Long> b = byKind1.get(id);
              java.util.function.ToDoubleFunction<ProcStats.ThreadKind> sec =
                  k -> Math.max(0, b.getOrDefault(k, 0L) - a.getOrDefault(k, 0L)) / 1e9;
              double jit = sec.applyAsDouble(ProcStats.ThreadKind.JIT);
              double gc = sec.applyAsDouble(ProcStats.ThreadKind.GC);
              // The rest from the process's total, which keeps the time of threads that ended
              // during the call (a pool's idle workers); a sum over live threads would lose it.
              Long t0 = cpu0.get(id);
              Long t1 = cpu1.get(id);
              double rest = t0 == null || t1 == null || t0 < 0 || t1 < 0 ? sec.applyAsDouble(ProcStats.ThreadKind.OTHER)
                  : Math.max(0, (t1 - t0) / 1e9 - jit - gc);
              return String.format("%s %.2f / %.2f / %.2f s", id, jit, gc, rest);
            }).toList()));
        for (HopResult h : run.hops()) {
          log("  hop %s -> %s: %s, root_match %s, %d slots differ, %,d leaves compared,"
                  + " repaired %d -> server / %d -> client, %,d B sent / %,d B received (%,d B of records, protocol %d), %.1f ms%s",
              h.getClientNode(), h.getServerNode(), h.getSuccess() ? "ok" : "FAILED " + h.getError(),
              h.getRootMatch(), h.getSlotsDiffering(), h.getLeavesCompared(),
              h.getRepairedToServer(), h.getRepairedToClient(), h.getBytesSent(),
              h.getBytesReceived(), h.getRecordBytes(), h.getProtocol(), h.getDurationMs(),
              h.getSkippedCount() == 0 ? "" : ", skipped " + h.getSkippedList());
        }
        for (String id : cluster.dataNodeIds()) {
          peakRss.merge(id, ProcStats.peakRssBytes(cluster.dataNode(id).pid()), Math::max);
        }
        if (!run.completed()) {
          error = run.error() != null ? "RunRepair: " + run.error()
              : "round outcome(s) " + run.outcomes().stream().map(RoundOutcome::getStatus).toList();
          treesAfter = check.trees(replicas, group);
          return;
        }
        long tv = System.nanoTime();
        treesAfter = check.trees(replicas, group);
        verifyMillis += (System.nanoTime() - tv) / 1_000_000;
        if (treesAfter.equal()) {
          return;
        }
        log("trees still differ after round %d: %s", calls, treesAfter.describe());
      }
    }

    private Map<String, Map<ProcStats.ThreadKind, Long>> cpuByThreadKind() {
      Map<String, Map<ProcStats.ThreadKind, Long>> m = new LinkedHashMap<>();
      for (String id : cluster.dataNodeIds()) {
        m.put(id, ProcStats.cpuNanosByThreadKind(cluster.dataNode(id).pid()));
      }
      return m;
    }

    private Map<String, Long> cpuSample() {
      Map<String, Long> m = new LinkedHashMap<>();
      for (String id : cluster.dataNodeIds()) {
        m.put(id, ProcStats.cpuNanos(cluster.dataNode(id).pid()));
      }
      return m;
    }

    private void verify() {
      trace = RepairTrigger.traces(cluster.adminChannel(trigger), group, repairStartUnixMs);
      for (RepairTrigger.SpanLine s : trace) {
        log("  span +%8.1f ms %8.1f ms  %-4s %s%s %s", s.startOffsetMs(), s.durationMs(), s.node(),
            s.message(), s.error() ? " ERROR " + s.errorReason() : "", s.tags());
      }
      long t = System.nanoTime();
      ConvergenceCheck.Diff d = check.properties(replicas, group, n);
      verifyMillis += (System.nanoTime() - t) / 1_000_000;
      differingAfter = d.differing();
      log("after repair: trees %s (%s); %,d of %,d keys differ%s", treesAfter.equal() ? "EQUAL"
              : "DIFFER", treesAfter.describe(), d.differing(), d.keys(),
          d.examples().isEmpty() ? "" : "; e.g. " + d.examples());
    }

    private RepairScenarioResult result() {
      long sent = 0;
      long received = 0;
      long recordBytes = 0;
      long leaves = 0;
      long toServer = 0;
      long toClient = 0;
      int failed = 0;
      List<RepairScenarioResult.Hop> hopList = new ArrayList<>();
      for (HopResult h : hops) {
        sent += h.getBytesSent();
        received += h.getBytesReceived();
        recordBytes += h.getRecordBytes();
        leaves += h.getLeavesCompared();
        toServer += h.getRepairedToServer();
        toClient += h.getRepairedToClient();
        failed += h.getSuccess() ? 0 : 1;
        hopList.add(new RepairScenarioResult.Hop(h.getClientNode(), h.getServerNode(),
            h.getSuccess(), h.getError(), h.getRootMatch(), h.getSlotsDiffering(),
            h.getLeavesCompared(), h.getRepairedToServer(), h.getRepairedToClient(),
            h.getBytesSent(), h.getBytesReceived(), h.getDurationMs(), h.getSkippedList()));
      }
      Map<String, Double> cpuSeconds = new LinkedHashMap<>();
      cpuNanos.forEach((id, v) -> cpuSeconds.put(id, v / 1e9));
      Map<String, Double> cpuWithRebuild = new LinkedHashMap<>();
      cpuWithRebuildNanos.forEach((id, v) -> cpuWithRebuild.put(id, v / 1e9));
      boolean treesEqual = treesAfter != null && treesAfter.equal();
      boolean converged = error == null && treesEqual && differingAfter == 0;
      return new RepairScenarioResult(label, scenario.description, n, size, copies,
          cluster.dataNodeIds().size(), group, replicas, victim, trigger, load.label(), loadMillis,
          writes, loadRetries, scenario.expectedDiverged(n, diffs),
          diffBefore == null ? -1 : diffBefore.differing(),
          diffBefore == null ? -1 : diffBefore.bytes(),
          treesBefore != null && !treesBefore.equal(),
          treesBefore == null ? -1 : treesBefore.wallMs(),
          diffBefore == null ? -1 : diffBefore.wallMs(),
          wallNanos / 1e6, calls, outcomes.size(), hops.size(), failed, sent, received, recordBytes, leaves,
          toServer, toClient, cpuSeconds, cpuWithRebuild, new LinkedHashMap<>(peakRss),
          new LinkedHashMap<>(rssBefore), new LinkedHashMap<>(rssAnonBefore),
          new LinkedHashMap<>(rssFileBefore), rssScope, treesEqual, differingAfter, verifyMillis,
          outcomes.stream().map(o -> o.getStatus()
              + (o.getMessage().isEmpty() ? "" : ": " + o.getMessage())).toList(),
          hopList, trace, List.copyOf(repeatWallMillis), converged, error);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static List<Integer> range(int from, int to) {
    return IntStream.range(from, to).boxed().toList();
  }

  /** The file's modification time; null when it is absent or unreadable. */
  private static Instant modified(Path file) {
    try {
      return Files.isRegularFile(file) ? Files.getLastModifiedTime(file).toInstant() : null;
    } catch (IOException e) {
      return null;
    }
  }

  private static List<String> split(String opts) {
    return Arrays.stream(opts.trim().split("\\s+")).filter(s -> !s.isEmpty()).toList();
  }

  private static String relativize(Path root, Path p) {
    Path abs = p.toAbsolutePath().normalize();
    return abs.startsWith(root) ? root.relativize(abs).toString() : abs.toString();
  }

  static void log(String format, Object... args) {
    System.out.printf("[%s] %s%n", Instant.now().truncatedTo(ChronoUnit.MILLIS),
        String.format(format, args));
    System.out.flush();
  }

  private static void deleteRecursively(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          // best effort
        }
      });
    } catch (IOException e) {
      log("could not delete %s: %s", dir, e);
    }
  }
}
