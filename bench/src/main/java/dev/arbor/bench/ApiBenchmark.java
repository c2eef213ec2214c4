package dev.arbor.bench;

import dev.arbor.api.banyandb.property.v1.ApplyResponse;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.banyandb.property.v1.QueryResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The gRPC API benchmark: apply throughput/latency at several client counts, then query latency
 * by id and by criteria over a loaded data set, against a standalone server it starts (or an
 * already-running one with {@code --target}). With several {@code --server-jar}s it measures every
 * build in the same run, step by step in turn; with {@code --ceiling} also the apply levels
 * against a no-storage gRPC server. Prints a markdown report and writes it into
 * {@code docs/benchmarks.md} between {@code <!-- api-bench:start -->} and
 * {@code <!-- api-bench:end -->}.
 */
@Command(name = "api", mixinStandardHelpOptions = true, sortOptions = false,
    version = "arbor-bench api 0.1.0",
    description = {"Benchmark Arbor's property gRPC API over loopback (apply, then query).",
        "Old vs new in one run: --server-jar old=OLD.jar --server-jar new=NEW.jar [--ceiling].",
        "Clusters vs standalone in one run: --deployment standalone,dev-cluster,processes"
            + " (each build; ratios to its standalone)."})
public final class ApiBenchmark implements Callable<Integer> {

  static final String BUILD_COMMAND = "./mvnw -B -q -DskipTests package";
  static final String RUN_COMMAND = "java -jar bench/target/arbor-bench.jar api";

  @Spec CommandSpec spec;

  @Option(names = "--quick",
      description = "Tiny sizes (< 60 s) for smoke checks; does not write the doc unless --doc.")
  boolean quick;

  @Option(names = "--target", paramLabel = "HOST:PORT",
      description = "Use an already-running server instead of starting one (one build only).")
  String target;

  @Option(names = "--repo", paramLabel = "DIR",
      description = "Repository root (default: found from the jar's or the working directory).")
  Path repo;

  @Option(names = "--server-jar", paramLabel = "[LABEL=]JAR",
      description = "Server jar (default: <repo>/server/target/arbor.jar). Repeat it to compare"
          + " builds in one run, e.g. --server-jar old=/tmp/old-main/server/target/arbor.jar"
          + " --server-jar new=server/target/arbor.jar: every step runs on each build in turn"
          + " (order rotating) with identical parameters and seed, and the report has a column"
          + " per build and the ratio of each later build to the first (the baseline).")
  List<String> serverJars = new ArrayList<>();

  @Option(names = "--deployment", split = ",", defaultValue = "standalone", paramLabel = "KIND",
      converter = DeploymentConverter.class,
      description = "What to start for each build: standalone; dev-cluster (`arbor dev-cluster`: a"
          + " liaison and --data-nodes data nodes in one JVM, --server-jvm-opts); processes (a real"
          + " etcd, --data-nodes `arbor data` JVMs and an `arbor liaison` JVM, separate processes,"
          + " --node-jvm-opts / --liaison-jvm-opts). Several, e.g. standalone,dev-cluster,processes:"
          + " every step runs on each in turn, a cluster's groups get --cluster-replicas, and the"
          + " report adds each cluster's figures as a ratio to standalone of the same build, plus"
          + " apply with consistency `all` and by-id queries with replicas agreeing and with one key"
          + " in --disagree-every disagreeing (default: ${DEFAULT-VALUE}).")
  List<Deployment> deployments = new ArrayList<>(List.of(Deployment.STANDALONE));

  @Option(names = "--data-nodes", defaultValue = "3",
      description = "Data nodes of a dev-cluster or processes deployment (default: ${DEFAULT-VALUE}).")
  int dataNodes;

  @Option(names = "--cluster-replicas", defaultValue = "1",
      description = "replicas of the groups on a cluster deployment (extra copies: 1 = two copies)"
          + " (default: ${DEFAULT-VALUE}).")
  int clusterReplicas;

  @Option(names = "--node-jvm-opts", paramLabel = "OPTS", defaultValue = "-Xms1g -Xmx1g -XX:+UseG1GC",
      description = "JVM options of each `arbor data` of the processes deployment (default: ${DEFAULT-VALUE}).")
  String nodeJvmOpts;

  @Option(names = "--liaison-jvm-opts", paramLabel = "OPTS", defaultValue = "-Xms1g -Xmx1g -XX:+UseG1GC",
      description = "JVM options of the `arbor liaison` of the processes deployment (default: ${DEFAULT-VALUE}).")
  String liaisonJvmOpts;

  @Option(names = "--disagree-every", defaultValue = "100", paramLabel = "N",
      description = "In the disagreeing by-id scenario on a cluster, one loaded key in N has a newer"
          + " version on one replica only (written there with the internal DataNodeService.Write),"
          + " made to disagree again half a pass before the in-order walk over the ids comes back"
          + " to it, since read repair makes the copies agree once a query saw them differ"
          + " (default: ${DEFAULT-VALUE}).")
  int disagreeEvery;

  @Option(names = "--ceiling",
      description = "Also run the apply levels against a no-storage gRPC server (the bench jar's"
          + " `ceiling`: the server's own ServingEndpoints, Apply answered without storing),"
          + " started like the real server, and report each build's apply ops/s as a percentage"
          + " of it.")
  boolean ceiling;

  @Option(names = "--no-pause-idle",
      description = "With several servers (builds, ceiling), leave the ones not being measured"
          + " running; by default they are paused (SIGSTOP) so their background work does not"
          + " take CPU from the one measured.")
  boolean noPauseIdle;

  @Option(names = "--server-jvm-opts", paramLabel = "OPTS",
      defaultValue = "-Xms2g -Xmx2g -XX:+UseG1GC",
      description = "JVM options for the server process (default: ${DEFAULT-VALUE}).")
  String serverJvmOpts;

  @Option(names = "--server-arg", paramLabel = "ARG",
      description = "Extra argument for `arbor standalone` (repeatable).")
  List<String> serverArgs = new ArrayList<>();

  @Option(names = "--startup-timeout", defaultValue = "90", paramLabel = "SECONDS",
      description = "Bound on waiting for GET /health = 200 (default: ${DEFAULT-VALUE}).")
  int startupTimeoutSeconds;

  @Option(names = "--shards", defaultValue = "2", description = "shard_num of the groups (default: ${DEFAULT-VALUE}).")
  int shards;

  @Option(names = "--replicas", defaultValue = "0",
      description = "replicas of the groups (extra copies; use 1 against a cluster) (default: ${DEFAULT-VALUE}).")
  int replicas;

  @Option(names = "--clients", split = ",", defaultValue = "1,8,64",
      description = "Concurrent clients for the apply levels (default: ${DEFAULT-VALUE}).")
  List<Integer> applyClients;

  @Option(names = "--warmup", defaultValue = "5", paramLabel = "SECONDS",
      description = "Warm-up per apply level (default: ${DEFAULT-VALUE}; quick: 1).")
  double warmup;

  @Option(names = "--measure", defaultValue = "15", paramLabel = "SECONDS",
      description = "Measured time per apply level (default: ${DEFAULT-VALUE}; quick: 2).")
  double measure;

  @Option(names = "--jit-warmup", defaultValue = "10", paramLabel = "SECONDS",
      description = "Before any measurement, applies (8 clients) in windows of this long into a separate"
          + " group until two windows in a row agree within 10 %% (three at least, at most --jit-warmup-max),"
          + " then runs each query kind for a third of it, so the first level does not pay for the servers' JIT"
          + " compilation (default: ${DEFAULT-VALUE}; quick: 2; 0 = none).")
  double jitWarmup;

  @Option(names = "--jit-warmup-max", defaultValue = "60", paramLabel = "SECONDS",
      description = "Longest apply warm-up per server: a cluster of separate processes has four JVMs to"
          + " compile and settles later than one (default: ${DEFAULT-VALUE}; quick: 6).")
  double jitWarmupMax;

  @Option(names = "--payload-bytes", defaultValue = "2048",
      description = "Size of the `data` tag (default: ${DEFAULT-VALUE}).")
  int payloadBytes;

  @Option(names = "--apply-id-space", defaultValue = "0",
      description = "Apply ids cycle over this many ids (updates); 0 = every apply creates a new id (default).")
  long applyIdSpace;

  @Option(names = "--properties", defaultValue = "100000",
      description = "Properties loaded before the query phase (default: ${DEFAULT-VALUE}; quick: 2000).")
  int properties;

  @Option(names = "--load-clients", defaultValue = "64",
      description = "Concurrent clients for the load (default: ${DEFAULT-VALUE}).")
  int loadClients;

  @Option(names = "--max-load-seconds", defaultValue = "600",
      description = "Stop loading after this long and query what was loaded (default: ${DEFAULT-VALUE}).")
  int maxLoadSeconds;

  @Option(names = "--settle", defaultValue = "5", paramLabel = "SECONDS",
      description = "Idle pause after the load, measuring the server's background CPU (default: ${DEFAULT-VALUE}; quick: 1).")
  double settle;

  @Option(names = "--query-clients", split = ",", defaultValue = "1,8",
      description = "Concurrent clients for each query kind (default: ${DEFAULT-VALUE}).")
  List<Integer> queryClients;

  @Option(names = "--query-warmup", defaultValue = "2", paramLabel = "SECONDS",
      description = "Warm-up per query scenario (default: ${DEFAULT-VALUE}; quick: 0.5).")
  double queryWarmup;

  @Option(names = "--query-measure", defaultValue = "10", paramLabel = "SECONDS",
      description = "Measured time per query scenario (default: ${DEFAULT-VALUE}; quick: 1.5).")
  double queryMeasure;

  @Option(names = "--kinds", defaultValue = "16",
      description = "Distinct values of the `kind` tag (default: ${DEFAULT-VALUE}).")
  int kinds;

  @Option(names = "--zones", defaultValue = "8",
      description = "Distinct values of the `zone` tag (default: ${DEFAULT-VALUE}).")
  int zones;

  @Option(names = "--criteria-limit", defaultValue = "10",
      description = "limit of the criteria queries (default: ${DEFAULT-VALUE}).")
  int criteriaLimit;

  @Option(names = "--channels", defaultValue = "4",
      description = "gRPC channels (connections) the clients share (default: ${DEFAULT-VALUE}).")
  int channelCount;

  @Option(names = "--doc", paramLabel = "FILE",
      description = "Markdown file to update (default: <repo>/docs/benchmarks.md; none with --quick).")
  Path doc;

  @Option(names = "--no-doc", description = "Do not write any doc file.")
  boolean noDoc;

  @Option(names = "--keep-data", description = "Keep the server's data directory / the groups.")
  boolean keepData;

  @Option(names = "--seed", defaultValue = "42", description = "Seed of the payload generator.")
  long seed;

  /** {@code --deployment} values: standalone, dev-cluster, processes. */
  static final class DeploymentConverter implements CommandLine.ITypeConverter<Deployment> {
    @Override
    public Deployment convert(String value) {
      return Deployment.parse(value);
    }
  }

  private String[] originalArgs = new String[0];
  private ApiWorkload workload;
  /** Several servers in this run: log lines name the one they are about. */
  private boolean several;

  public static void main(String[] args) {
    ApiBenchmark bench = new ApiBenchmark();
    bench.originalArgs = args.clone();
    int code = new CommandLine(bench).execute(args);
    System.exit(code);
  }

  private boolean explicitlySet(String option) {
    return spec.commandLine().getParseResult().hasMatchedOption(option);
  }

  private void applyQuickDefaults() {
    if (!quick) {
      return;
    }
    if (!explicitlySet("--warmup")) warmup = 1;
    if (!explicitlySet("--measure")) measure = 2;
    if (!explicitlySet("--properties")) properties = 2000;
    if (!explicitlySet("--query-warmup")) queryWarmup = 0.5;
    if (!explicitlySet("--settle")) settle = 1;
    if (!explicitlySet("--jit-warmup")) jitWarmup = 2;
    if (!explicitlySet("--jit-warmup-max")) jitWarmupMax = 6;
    if (!explicitlySet("--query-measure")) queryMeasure = 1.5;
  }

  /** Group names: fixed on a server the benchmark owns, unique on an external one. */
  private record Groups(String apply, String query, String warmup) {
    static Groups of(String prefix) {
      return new Groups(prefix + "_apply", prefix + "_query", prefix + "_warmup");
    }
  }

  /** One query scenario: a kind of query with a client count. */
  private record QueryScenario(String name, int clients, QueryKind kind) {}

  private interface QueryKind {
    ClosedLoop.Op<QueryResponse> op(ApiTarget target, String group, int loaded, int clients);
  }

  @Override
  public Integer call() throws Exception {
    applyQuickDefaults();
    validate();
    Path root = repo != null ? repo.toAbsolutePath().normalize() : findRepo();
    List<ServerJar> jars;
    try {
      jars = ServerJar.parseAll(serverJars, root);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    if (target != null && jars.size() > 1) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--target measures one external server: compare builds without it");
    }
    boolean comparing = jars.size() > 1 || ceiling;
    Path docFile = noDoc ? null : doc != null ? doc : quick ? null : root.resolve("docs/benchmarks.md");
    List<String> jvmOpts = Arrays.stream(serverJvmOpts.trim().split("\\s+"))
        .filter(s -> !s.isEmpty()).toList();
    String command = BUILD_COMMAND + " && " + RUN_COMMAND
        + (originalArgs.length == 0 ? "" : " " + shellQuote(originalArgs));
    MachineInfo machine = MachineInfo.collect(root);
    Instant started = Instant.now();
    workload = new ApiWorkload(seed, payloadBytes, kinds, zones, criteriaLimit, applyIdSpace);
    Groups groups = Groups.of(target == null ? "bench" : "bench_" + Instant.now().getEpochSecond());

    if (target != null && deployments.size() > 1) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--target measures one external server: compare deployments without it");
    }
    boolean severalDeployments = deployments.size() > 1;
    comparing |= severalDeployments;
    several = comparing;
    List<Report> buildReports = new ArrayList<>();
    List<ServerJar> perTarget = new ArrayList<>();
    for (ServerJar j : jars) {
      for (Deployment d : deployments) {
        Report r = newReport(severalDeployments ? j.label() + "/" + d.label() : j.label(), command,
            machine, started);
        r.build = j.label();
        r.deployment = d;
        r.copies = d.cluster() ? clusterReplicas + 1 : 1;
        buildReports.add(r);
        perTarget.add(j);
      }
    }
    Report ceilingReport = ceiling ? newReport("ceiling", command, machine, started) : null;
    List<ApiTarget> builds = new ArrayList<>();
    ApiTarget ceilingTarget = null;
    boolean pauseIdle = !noPauseIdle && buildReports.size() + (ceiling ? 1 : 0) > 1;
    String fatal = null;
    try {
      for (int i = 0; i < buildReports.size(); i++) {
        builds.add(target != null ? external(buildReports.get(i))
            : startBuild(perTarget.get(i), buildReports.get(i), root, jvmOpts));
        if (pauseIdle) {
          builds.get(i).pause(); // idle while the next one starts
        }
      }
      if (ceiling) {
        ceilingTarget = startCeiling(ceilingReport, root, jvmOpts);
      }
      List<ApiTarget> all = new ArrayList<>(builds);
      if (ceilingTarget != null) {
        all.add(ceilingTarget);
      }
      TurnTaking turns = new TurnTaking(all, pauseIdle);
      turns.pauseAll();
      run(turns, builds, all, groups);
    } catch (Exception e) {
      fatal = ClosedLoop.describe(e);
      System.err.println("benchmark failed: " + e);
      e.printStackTrace();
      for (ApiTarget t : builds) {
        if (t.server() != null) {
          t.report().serverAliveAtEnd = t.server().alive();
          System.err.println("server" + (several ? " " + t.label() : "") + " "
              + (t.server().alive() ? "still running" : "exited (or a process of it)") + "; last lines of "
              + t.server().log() + ":\n" + t.server().logTail(30));
        }
      }
    } finally {
      Instant finished = Instant.now();
      buildReports.forEach(r -> r.finished = finished);
      if (ceilingReport != null) {
        ceilingReport.finished = finished;
      }
      for (ApiTarget t : builds) {
        if (target != null && !keepData) {
          t.deleteGroup(groups.apply());
          t.deleteGroup(groups.query());
          if (jitWarmup > 0) {
            t.deleteGroup(groups.warmup());
          }
        }
        t.close(keepData);
      }
      if (ceilingTarget != null) {
        ceilingTarget.close(keepData);
      }
    }
    for (Report r : buildReports) {
      r.fatal = fatal;
    }

    String markdown = comparing
        ? new ApiComparisonReport(buildReports, ceilingReport, pauseIdle, fatal).toMarkdown()
        : buildReports.get(0).toMarkdown();
    if (severalDeployments) {
      markdown = new DeploymentReport(buildReports, disagreeEvery).toMarkdown() + "\n" + markdown;
    }
    System.out.println();
    System.out.println(markdown);
    if (docFile != null) {
      BenchDoc.writeSection(docFile, markdown);
      log("wrote section to %s", docFile);
    }
    return fatal == null ? 0 : 1;
  }

  /**
   * Every phase, each step on every server in turn: groups and a sanity check, the JIT warm-up,
   * the apply levels (the ceiling too), the load and its idle pause, the query scenarios.
   */
  private void run(TurnTaking turns, List<ApiTarget> builds, List<ApiTarget> all, Groups groups)
      throws Exception {
    turns.each(0, all, t -> setUp(t, groups));
    if (jitWarmup > 0) {
      turns.each(0, all, t -> jitWarmup(t, groups.warmup()));
    }
    for (int i = 0; i < applyClients.size(); i++) {
      int clients = applyClients.get(i);
      turns.each(i, all, t -> t.report().apply.add(applyLevel(t, groups.apply(), clients)));
    }
    for (ApiTarget t : all) {
      t.report().applyIssued = t.applySeq().get();
    }
    turns.each(0, builds, t -> {
      t.report().queryLoaded = runLoad(t, groups.query());
      settle(t);
    });
    List<QueryScenario> scenarios = queryScenarios();
    for (int i = 0; i < scenarios.size(); i++) {
      QueryScenario q = scenarios.get(i);
      turns.each(i, builds, t -> t.report().query.add(runQuery(t, groups.query(), q)));
    }
    if (deployments.size() > 1) {
      compareDeployments(turns, builds, groups);
    }
    turns.resumeAll();
    for (ApiTarget t : builds) {
      if (t.server() != null) {
        t.report().serverAliveAtEnd = t.server().alive();
        t.report().serverRssBytes = t.server().rssBytes();
        t.report().dataBytes = t.server().dataBytes();
      }
    }
  }

  /**
   * The figures that compare a cluster with standalone beyond the common ones: apply with
   * consistency `all` at the largest apply level (clusters only), by-id queries at the largest
   * query level walking the loaded ids in order with every replica agreeing (every target), then
   * the same walk with one key in {@code --disagree-every} disagreeing (clusters only).
   */
  private void compareDeployments(TurnTaking turns, List<ApiTarget> builds, Groups groups)
      throws Exception {
    List<ApiTarget> clusters = builds.stream().filter(t -> t.report().deployment.cluster()).toList();
    int applyAt = applyClients.stream().max(Integer::compare).orElse(64);
    int queryAt = queryClients.stream().max(Integer::compare).orElse(8);
    turns.each(0, clusters, t -> t.report().deploymentRows.add(applyAll(t, groups.apply(), applyAt)));
    turns.each(1, builds, t -> t.report().deploymentRows.add(walkById(t, groups.query(), queryAt,
        null)));
    turns.each(2, clusters, t -> {
      try (Divergence d = new Divergence(t.server().dataNodes(), groups.query(), shards,
          t.report().queryLoaded, disagreeEvery)) {
        int n = d.divergeAll();
        log("%s%,d of %,d keys now differ between replicas (one in %d)", who(t), n,
            t.report().queryLoaded, disagreeEvery);
        double before = LiaisonMetrics.read(t.server().httpPort(), READ_REPAIRS);
        t.report().deploymentRows.add(walkById(t, groups.query(), queryAt, d));
        double after = LiaisonMetrics.read(t.server().httpPort(), READ_REPAIRS);
        t.report().diverged = d.diverged();
        // Proof that the walk met disagreeing copies: the liaison queued read repairs for them.
        t.report().readRepairs = before < 0 || after < 0 ? -1 : (long) (after - before);
        log("  the liaison queued %,d read repairs during the walk", t.report().readRepairs);
        if (d.lastError() != null) {
          log("  making keys disagree again failed at least once: %s", d.lastError());
        }
      }
    });
  }

  static final String READ_REPAIRS = "arbor_read_repair_enqueued_total";
  static final String APPLY_ALL = "apply, consistency all";
  static final String BY_ID_AGREE = "by id in order, replicas agree";
  static final String BY_ID_DISAGREE = "by id in order, 1 key in N disagrees";

  private Row applyAll(ApiTarget t, String group, int clients) throws InterruptedException {
    log("%sapply with consistency all: %d clients, %.1f s warm-up + %.1f s measured", who(t),
        clients, warmup, measure);
    Row row = new Row(APPLY_ALL, clients);
    try {
      row.window = ClosedLoop.timed(workload.applyLevel(t.withConsistencyAll(), group,
          t.applySeq()), clients, warmup, measure, t.server());
      log("  %s", row.summary());
    } catch (RuntimeException e) {
      row.failure = ClosedLoop.describe(e);
      log("  FAILED: %s", row.failure);
    }
    return row;
  }

  private Row walkById(ApiTarget t, String group, int clients, Divergence divergence)
      throws InterruptedException {
    String name = divergence == null ? BY_ID_AGREE : BY_ID_DISAGREE;
    log("%squery %s: %d clients, %.1f s warm-up + %.1f s measured", who(t), name, clients,
        queryWarmup, queryMeasure);
    Row row = new Row(name, clients);
    try {
      row.window = ClosedLoop.timed(workload.byIdInOrder(t, group, t.report().queryLoaded, clients,
          divergence == null ? half -> { } : divergence::rediverge), clients, queryWarmup,
          queryMeasure, t.server());
      log("  %s", row.summary());
    } catch (RuntimeException e) {
      row.failure = ClosedLoop.describe(e);
      log("  FAILED: %s", row.failure);
    }
    return row;
  }

  private void validate() {
    if (shards < 1 || payloadBytes < 1 || properties < 1 || kinds < 1 || zones < 1
        || channelCount < 1 || loadClients < 1 || criteriaLimit < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "sizes, counts and limits must be positive");
    }
    if (dataNodes < 1 || clusterReplicas < 0 || disagreeEvery < 2) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "--data-nodes must be >= 1, --cluster-replicas >= 0, --disagree-every >= 2");
    }
    if (deployments.stream().distinct().count() != deployments.size()) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--deployment lists a kind twice");
    }
    if (applyClients.stream().anyMatch(c -> c < 1) || queryClients.stream().anyMatch(c -> c < 1)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "client counts must be >= 1");
    }
  }

  // ---------------------------------------------------------------- setup

  private Report newReport(String label, String command, MachineInfo machine, Instant started) {
    Report report = new Report();
    report.label = label;
    report.started = started;
    report.command = command;
    report.quick = quick;
    report.shards = shards;
    report.payloadBytes = payloadBytes;
    report.applyIdSpace = applyIdSpace;
    report.warmup = warmup;
    report.measure = measure;
    report.queryWarmup = queryWarmup;
    report.queryMeasure = queryMeasure;
    report.channels = channelCount;
    report.kinds = kinds;
    report.zones = zones;
    report.criteriaLimit = criteriaLimit;
    report.machine = machine;
    return report;
  }

  private ApiTarget startBuild(ServerJar jar, Report report, Path root, List<String> jvmOpts)
      throws Exception {
    return switch (report.deployment) {
      case STANDALONE -> startStandalone(jar, report, root, jvmOpts);
      case DEV_CLUSTER -> startDevCluster(jar, report, root, jvmOpts);
      case PROCESSES -> startProcesses(jar, report, root);
    };
  }

  private ApiTarget startDevCluster(ServerJar jar, Report report, Path root, List<String> jvmOpts)
      throws Exception {
    Path workDir = Files.createTempDirectory("arbor-bench-dev-");
    log("starting %s: java %s -jar %s dev-cluster --data-nodes %d (data under %s)", report.label,
        String.join(" ", jvmOpts), jar.jar(), dataNodes, workDir);
    long t0 = System.nanoTime();
    ServerProcess server = ServerProcess.startDevCluster(jar.jar(), workDir, dataNodes, jvmOpts,
        serverArgs, Duration.ofSeconds(startupTimeoutSeconds));
    report.serverStartSeconds = (System.nanoTime() - t0) / 1e9;
    report.serverJvmOpts = String.join(" ", jvmOpts);
    report.serverJarBuilt = Files.getLastModifiedTime(jar.jar()).toInstant();
    report.serverCommand = "java " + String.join(" ", jvmOpts) + " -jar "
        + relativize(root, jar.jar()) + " dev-cluster --data-nodes " + dataNodes
        + " --base-dir <tmp> --grpc-host 127.0.0.1 --grpc-port <free> --http-port <free>"
        + (serverArgs.isEmpty() ? "" : " " + String.join(" ", serverArgs));
    report.endpoint = "child process on loopback (liaison and data nodes in one JVM)";
    log("%s healthy after %.1f s at %s (%s, data nodes %s, log %s)", report.label,
        report.serverStartSeconds, server.target(), server.describe(), server.dataNodes(),
        server.log());
    return ApiTarget.started(ApiTarget.Kind.ARBOR, report, server, workDir, channelCount);
  }

  private ApiTarget startProcesses(ServerJar jar, Report report, Path root) throws Exception {
    Path workDir = Files.createTempDirectory("arbor-bench-procs-");
    List<String> nodeOpts = splitOpts(nodeJvmOpts);
    List<String> liaisonOpts = splitOpts(liaisonJvmOpts);
    log("starting %s: etcd, %d x java %s -jar %s data, java %s -jar %s liaison (under %s)",
        report.label, dataNodes, nodeJvmOpts, jar.jar(), liaisonJvmOpts, jar.jar(), workDir);
    long t0 = System.nanoTime();
    // --node-ttl 2h: a data node paused by a loaded machine must not lose its registration.
    dev.arbor.bench.cluster.ClusterProcesses cluster = dev.arbor.bench.cluster.ClusterProcesses.start(
        jar.jar(), workDir, dataNodes, nodeOpts, liaisonOpts, "2h", serverArgs, List.of(),
        Duration.ofSeconds(startupTimeoutSeconds));
    ClusterSide side = new ClusterSide(cluster);
    report.serverStartSeconds = (System.nanoTime() - t0) / 1e9;
    report.serverJvmOpts = "data nodes " + nodeJvmOpts + "; liaison " + liaisonJvmOpts;
    report.serverJarBuilt = Files.getLastModifiedTime(jar.jar()).toInstant();
    report.serverCommand = "etcd (single member, loopback); " + dataNodes + " x java " + nodeJvmOpts
        + " -jar " + relativize(root, jar.jar()) + " data --node-id dN --data-dir <tmp>/dN"
        + " --grpc-host 127.0.0.1 --grpc-port <free> --http-port <free> --metadata etcd://…"
        + " --node-ttl 2h" + (serverArgs.isEmpty() ? "" : " " + String.join(" ", serverArgs))
        + "; java " + liaisonJvmOpts + " -jar " + relativize(root, jar.jar()) + " liaison"
        + " --grpc-host 127.0.0.1 --grpc-port <free> --http-port <free> --metadata etcd://…";
    report.endpoint = "liaison child process on loopback; CPU and RSS summed over etcd, the data"
        + " nodes and the liaison";
    log("%s ready after %.1f s: liaison %s, data nodes %s (%s)", report.label,
        report.serverStartSeconds, side.target(), side.dataNodes(), side.describe());
    return ApiTarget.started(ApiTarget.Kind.ARBOR, report, side, workDir, channelCount);
  }

  private static List<String> splitOpts(String opts) {
    return Arrays.stream(opts.trim().split("\\s+")).filter(x -> !x.isEmpty()).toList();
  }

  private ApiTarget startStandalone(ServerJar jar, Report report, Path root, List<String> jvmOpts)
      throws Exception {
    Path workDir = Files.createTempDirectory("arbor-bench-");
    String name = several ? " " + report.label : "";
    log("starting server%s: %s %s -jar %s standalone (data under %s)", name,
        "java", String.join(" ", jvmOpts), jar.jar(), workDir);
    long t0 = System.nanoTime();
    ServerProcess server = ServerProcess.start(jar.jar(), workDir, jvmOpts, serverArgs,
        Duration.ofSeconds(startupTimeoutSeconds));
    report.serverStartSeconds = (System.nanoTime() - t0) / 1e9;
    report.serverJvmOpts = String.join(" ", jvmOpts);
    report.serverJarBuilt = Files.getLastModifiedTime(jar.jar()).toInstant();
    report.serverCommand = "java " + String.join(" ", jvmOpts) + " -jar "
        + relativize(root, jar.jar()) + " standalone --data-dir <tmp> --grpc-host 127.0.0.1"
        + " --grpc-port <free> --http-port <free>"
        + (serverArgs.isEmpty() ? "" : " " + String.join(" ", serverArgs));
    report.endpoint = "child process on loopback";
    log("server%s healthy after %.1f s at %s (pid %d, log %s)", name,
        report.serverStartSeconds, server.target(), server.pid(), server.log());
    return ApiTarget.started(ApiTarget.Kind.ARBOR, report, server, workDir, channelCount);
  }

  private ApiTarget external(Report report) {
    report.serverJvmOpts = "(external server at " + target + "; flags unknown)";
    report.serverCommand = "(external server at " + target + ")";
    report.endpoint = target;
    report.externalServer = true;
    return ApiTarget.external(report, target, channelCount);
  }

  private ApiTarget startCeiling(Report report, Path root, List<String> jvmOpts) throws Exception {
    Path workDir = Files.createTempDirectory("arbor-bench-ceiling-");
    log("starting the no-storage ceiling server: java %s -cp <bench jar> %s", String.join(" ",
        jvmOpts), ServerProcess.CEILING_MAIN);
    long t0 = System.nanoTime();
    ServerProcess server = ServerProcess.startCeiling(workDir, jvmOpts,
        Duration.ofSeconds(startupTimeoutSeconds));
    report.serverStartSeconds = (System.nanoTime() - t0) / 1e9;
    report.serverJvmOpts = String.join(" ", jvmOpts);
    report.serverCommand = "java " + String.join(" ", jvmOpts) + " -cp "
        + relativize(root, Path.of(System.getProperty("java.class.path"))) + " "
        + ServerProcess.CEILING_MAIN + " --grpc-host 127.0.0.1 --grpc-port <free>"
        + " --http-port <free>";
    report.endpoint = "child process on loopback";
    log("ceiling healthy after %.1f s at %s (pid %d, log %s)", report.serverStartSeconds,
        server.target(), server.pid(), server.log());
    return ApiTarget.started(ApiTarget.Kind.CEILING, report, server, workDir, channelCount);
  }

  /** Groups and one blocking apply (and query) so a broken server fails fast and clearly. */
  private void setUp(ApiTarget t, Groups groups) {
    t.report().apiVersion = t.apiVersion();
    if (t.kind() == ApiTarget.Kind.CEILING) {
      ApplyResponse ar = t.blocking().apply(ApiWorkload.merge(
          workload.property(groups.apply(), "sanity-0", 0, 0, 0)));
      if (!ar.getCreated()) {
        throw new IllegalStateException("sanity check failed: the ceiling answered " + ar);
      }
      return;
    }
    for (String g : jitWarmup > 0 ? List.of(groups.warmup(), groups.apply(), groups.query())
        : List.of(groups.apply(), groups.query())) {
      int r = t.report().deployment.cluster() ? clusterReplicas : replicas;
      t.createGroup(g, shards, r);
      log("%screated group %s (CATALOG_PROPERTY, shard_num %d, replicas %d) and schema %s",
          who(t), g, shards, r, ApiWorkload.SCHEMA);
    }
    ApplyResponse ar = t.blocking().apply(ApiWorkload.merge(
        workload.property(groups.apply(), "sanity-0", 0, 0, 0)));
    QueryResponse qr = t.blocking().query(QueryRequest.newBuilder().addGroups(groups.apply())
        .setName(ApiWorkload.SCHEMA).addIds("sanity-0").setLimit(20).build());
    if (qr.getPropertiesCount() != 1 || !qr.getProperties(0).getId().equals("sanity-0")) {
      throw new IllegalStateException("sanity check failed on " + t.label() + ": applied sanity-0"
          + " (created=" + ar.getCreated() + ", tags_num=" + ar.getTagsNum() + ") but query by id"
          + " returned " + qr.getPropertiesCount() + " properties");
    }
  }

  // ---------------------------------------------------------------- phases

  /**
   * Exercises every code path measured later (apply, query by id, by criteria; apply only on the
   * ceiling) for a while, in a group of its own, so that JIT compilation in the server (and the
   * client) happens here.
   */
  private void jitWarmup(ApiTarget t, String group) throws InterruptedException {
    boolean queries = t.kind() == ApiTarget.Kind.ARBOR;
    log("%sJIT warm-up: apply %.1f s%s, 8 clients, group %s", who(t), jitWarmup,
        queries ? String.format(", then each query kind %.1f s", jitWarmup / 3) : "", group);
    long t0 = System.nanoTime();
    AtomicLong seq = new AtomicLong();
    List<String> notes = new ArrayList<>();
    ServerSide server = t.server();
    try {
      // Time alone under-warms a cluster of processes (its consistency 'one' level, measured first,
      // once ran slower than 'all'): repeat until the rate stops moving.
      List<String> rates = new ArrayList<>();
      ClosedLoop.Window w = null;
      double previous = -1;
      double spent = 0;
      while (true) {
        w = ClosedLoop.timed(workload.applyNew(t, group, "q-", seq), 8, 0, jitWarmup, server);
        spent += jitWarmup;
        rates.add(String.format("%,.0f", w.opsPerSecond()));
        // Two cold windows can agree too (both slow while four JVMs compile): three at least.
        boolean settled = rates.size() >= 3 && Math.abs(w.opsPerSecond() - previous) <= 0.10 * previous;
        if (settled || spent + jitWarmup > Math.max(jitWarmup, jitWarmupMax)) {
          notes.add(String.format("apply %s ops/s (%s)", String.join(" → ", rates),
              settled ? "settled" : "not settled within " + jitWarmupMax + " s"));
          break;
        }
        previous = w.opsPerSecond();
      }
      if (queries) {
        int applied = (int) Math.max(1, Math.min(w.ops(), seq.get()));
        double q = jitWarmup / 3;
        w = ClosedLoop.timed(workload.byId(t, group, applied, 8), 8, 0, q, server);
        notes.add(String.format("by id %,.0f ops/s", w.opsPerSecond()));
        w = ClosedLoop.timed(workload.byKind(t, group, applied, 8), 8, 0, q, server);
        notes.add(String.format("kind %,.0f ops/s", w.opsPerSecond()));
        w = ClosedLoop.timed(workload.byKindAndZone(t, group, applied, 8), 8, 0, q, server);
        notes.add(String.format("kind AND zone %,.0f ops/s", w.opsPerSecond()));
      }
    } catch (RuntimeException e) {
      notes.add("failed: " + ClosedLoop.describe(e));
    }
    t.report().jitWarmupSeconds = (System.nanoTime() - t0) / 1e9;
    t.report().jitWarmupNotes = String.join(", ", notes);
    log("  %s", t.report().jitWarmupNotes);
  }

  private Row applyLevel(ApiTarget t, String group, int clients) throws InterruptedException {
    log("%sapply: %d clients, %.1f s warm-up + %.1f s measured", who(t), clients, warmup,
        measure);
    Row row = new Row("apply", clients);
    try {
      row.window = ClosedLoop.timed(workload.applyLevel(t, group, t.applySeq()), clients, warmup,
          measure, t.server());
      log("  %s", row.summary());
    } catch (RuntimeException e) {
      row.failure = ClosedLoop.describe(e);
      log("  FAILED: %s", row.failure);
    }
    return row;
  }

  private int runLoad(ApiTarget t, String group) throws InterruptedException {
    AtomicLong seq = new AtomicLong();
    log("%sload: %d properties with %d clients", who(t), properties, loadClients);
    ServerSide server = t.server();
    ClosedLoop<ApplyResponse> loop =
        new ClosedLoop<>(workload.load(t, group, properties, seq), loadClients);
    CpuSample c0 = CpuSample.now(server);
    long t0 = System.nanoTime();
    loop.start();
    boolean finished = loop.awaitDone(maxLoadSeconds, TimeUnit.SECONDS);
    if (!finished) {
      log("  load not finished after %d s: stopping", maxLoadSeconds);
      loop.stopAndAwait(60);
    }
    Row row = new Row("load", loadClients);
    row.window = loop.windowFrom(t0, 0, 0, c0, server);
    Report report = t.report();
    report.load = row;
    report.loadRequested = properties;
    report.loadCompleted = finished;
    long ok = row.window.ops();
    log("  %s", row.summary());
    if (loop.abandoned()) {
      throw new IllegalStateException("load abandoned after " + loop.errors()
          + " errors; first: " + row.window.firstError());
    }
    // Ids were issued in order; the first `ok` of them (all of them, without errors) are loaded.
    return (int) Math.max(1, Math.min(ok, seq.get()));
  }

  /** An idle pause after the load, measuring the server's background CPU. */
  private void settle(ApiTarget t) throws InterruptedException {
    if (settle <= 0) {
      return;
    }
    CpuSample before = CpuSample.now(t.server());
    TimeUnit.MILLISECONDS.sleep((long) (settle * 1000));
    t.report().settle = CpuSample.now(t.server()).minus(before);
    log("%sidle %.1f s after the load: server CPU %s cores, other CPU %s cores", who(t),
        settle, Row.cores(t.report().settle.serverCores()),
        Row.cores(t.report().settle.otherCores()));
  }

  /** By id, then kind, then kind AND zone, each with every --query-clients count. */
  private List<QueryScenario> queryScenarios() {
    List<QueryScenario> list = new ArrayList<>();
    for (int clients : queryClients) {
      list.add(new QueryScenario("by id", clients, workload::byId));
    }
    for (int clients : queryClients) {
      list.add(new QueryScenario("kind = X, limit " + criteriaLimit, clients, workload::byKind));
    }
    for (int clients : queryClients) {
      list.add(new QueryScenario("kind = X AND zone = Y, limit " + criteriaLimit, clients,
          workload::byKindAndZone));
    }
    return list;
  }

  private Row runQuery(ApiTarget t, String group, QueryScenario q) throws InterruptedException {
    log("%squery %s: %d clients, %.1f s warm-up + %.1f s measured", who(t), q.name(),
        q.clients(), queryWarmup, queryMeasure);
    Row row = new Row(q.name(), q.clients());
    try {
      row.window = ClosedLoop.timed(q.kind().op(t, group, t.report().queryLoaded, q.clients()),
          q.clients(), queryWarmup, queryMeasure, t.server());
      log("  %s", row.summary());
    } catch (RuntimeException e) {
      row.failure = ClosedLoop.describe(e);
      log("  FAILED: %s", row.failure);
    }
    return row;
  }

  // ---------------------------------------------------------------- helpers

  /** "label: " in front of a log line when several servers run, else nothing (as before). */
  private String who(ApiTarget t) {
    return several ? t.label() + ": " : "";
  }

  static void log(String format, Object... args) {
    System.out.printf("[%s] %s%n", Instant.now().truncatedTo(ChronoUnit.SECONDS),
        String.format(format, args));
    System.out.flush();
  }

  public static String shellQuote(String[] args) {
    StringBuilder b = new StringBuilder();
    for (String a : args) {
      if (b.length() > 0) {
        b.append(' ');
      }
      b.append(a.matches("[A-Za-z0-9_./:=,@%+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
    }
    return b.toString();
  }

  private static String relativize(Path root, Path p) {
    Path abs = p.toAbsolutePath().normalize();
    return abs.startsWith(root) ? root.relativize(abs).toString() : abs.toString();
  }

  /** The repository: the jar's ../.. (bench/target/arbor-bench.jar) or the working directory. */
  public static Path findRepo() {
    List<Path> candidates = new ArrayList<>();
    try {
      Path self = Path.of(ApiBenchmark.class.getProtectionDomain().getCodeSource().getLocation()
          .toURI()).toAbsolutePath();
      for (Path p = self.getParent(); p != null; p = p.getParent()) {
        candidates.add(p);
      }
    } catch (Exception e) {
      // not from a jar
    }
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      candidates.add(p);
    }
    for (Path p : candidates) {
      if (Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("server"))
          && Files.isDirectory(p.resolve("bench"))) {
        return p.normalize();
      }
    }
    return Path.of("").toAbsolutePath();
  }
}
