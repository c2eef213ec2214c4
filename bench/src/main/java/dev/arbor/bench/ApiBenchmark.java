package dev.arbor.bench;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.GetAPIVersionRequest;
import dev.arbor.api.banyandb.common.v1.GetAPIVersionResponse;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.common.v1.ServiceGrpc;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceDeleteRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceGrpc;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceGrpc;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Condition;
import dev.arbor.api.banyandb.model.v1.Criteria;
import dev.arbor.api.banyandb.model.v1.Int;
import dev.arbor.api.banyandb.model.v1.LogicalExpression;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.ApplyResponse;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.banyandb.property.v1.QueryResponse;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The gRPC API benchmark: apply throughput/latency at several client counts, then query latency
 * by id and by criteria over a loaded data set, against a standalone server it starts (or an
 * already-running one with {@code --target}). Prints a markdown report and writes it into
 * {@code docs/benchmarks.md} between {@code <!-- api-bench:start -->} and
 * {@code <!-- api-bench:end -->}.
 */
@Command(name = "api", mixinStandardHelpOptions = true, sortOptions = false,
    version = "arbor-bench api 0.1.0",
    description = "Benchmark Arbor's property gRPC API over loopback (apply, then query).")
public final class ApiBenchmark implements Callable<Integer> {

  static final String SCHEMA = "bench";
  static final String BUILD_COMMAND = "./mvnw -B -q -DskipTests package";
  static final String RUN_COMMAND = "java -jar bench/target/arbor-bench.jar api";

  @Spec CommandSpec spec;

  @Option(names = "--quick",
      description = "Tiny sizes (< 60 s) for smoke checks; does not write the doc unless --doc.")
  boolean quick;

  @Option(names = "--target", paramLabel = "HOST:PORT",
      description = "Use an already-running server instead of starting one.")
  String target;

  @Option(names = "--repo", paramLabel = "DIR",
      description = "Repository root (default: found from the jar's or the working directory).")
  Path repo;

  @Option(names = "--server-jar", paramLabel = "JAR",
      description = "Server jar (default: <repo>/server/target/arbor.jar).")
  Path serverJar;

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
      description = "Before any measurement, applies (8 clients) for this long into a separate group,"
          + " then runs each query kind for a third of it, so the first level does not pay for the"
          + " server's JIT compilation (default: ${DEFAULT-VALUE}; quick: 2; 0 = none).")
  double jitWarmup;

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

  private String[] originalArgs = new String[0];
  private ManagedChannel[] channels;
  private PropertyServiceGrpc.PropertyServiceStub[] stubs;
  private Tag[] payloadTags;
  private String[] kindValues;
  private String[] zoneValues;

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
    if (!explicitlySet("--query-measure")) queryMeasure = 1.5;
  }

  @Override
  public Integer call() throws Exception {
    applyQuickDefaults();
    validate();
    Path root = repo != null ? repo.toAbsolutePath().normalize() : findRepo();
    Path jar = serverJar != null ? serverJar : root.resolve("server/target/arbor.jar");
    Path docFile = noDoc ? null : doc != null ? doc : quick ? null : root.resolve("docs/benchmarks.md");
    List<String> jvmOpts = Arrays.stream(serverJvmOpts.trim().split("\\s+"))
        .filter(s -> !s.isEmpty()).toList();

    Report report = new Report();
    report.started = Instant.now();
    report.command = BUILD_COMMAND + " && " + RUN_COMMAND
        + (originalArgs.length == 0 ? "" : " " + shellQuote(originalArgs));
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
    report.machine = MachineInfo.collect(root);

    Path workDir = null;
    ServerProcess server = null;
    String endpoint = target;
    String prefix = target == null ? "bench" : "bench_" + Instant.now().getEpochSecond();
    String applyGroup = prefix + "_apply";
    String queryGroup = prefix + "_query";
    String warmupGroup = prefix + "_warmup";
    try {
      if (target == null) {
        workDir = Files.createTempDirectory("arbor-bench-");
        log("starting server: %s %s -jar %s standalone (data under %s)",
            "java", String.join(" ", jvmOpts), jar, workDir);
        long t0 = System.nanoTime();
        server = ServerProcess.start(jar, workDir, jvmOpts, serverArgs,
            Duration.ofSeconds(startupTimeoutSeconds));
        report.serverStartSeconds = (System.nanoTime() - t0) / 1e9;
        endpoint = server.target();
        report.serverJvmOpts = String.join(" ", jvmOpts);
        report.serverJarBuilt = Files.getLastModifiedTime(jar).toInstant();
        report.serverCommand = "java " + String.join(" ", jvmOpts) + " -jar "
            + relativize(root, jar) + " standalone --data-dir <tmp> --grpc-host 127.0.0.1"
            + " --grpc-port <free> --http-port <free>"
            + (serverArgs.isEmpty() ? "" : " " + String.join(" ", serverArgs));
        log("server healthy after %.1f s at %s (pid %d, log %s)", report.serverStartSeconds,
            endpoint, server.pid(), server.log());
      } else {
        report.serverJvmOpts = "(external server at " + target + "; flags unknown)";
        report.serverCommand = "(external server at " + target + ")";
      }
      report.endpoint = target == null ? "child process on loopback" : target;
      report.externalServer = target != null;
      openChannels(endpoint);
      preparePayloads();
      report.apiVersion = apiVersion();
      if (jitWarmup > 0) {
        setUp(warmupGroup);
      }
      setUp(applyGroup);
      setUp(queryGroup);
      sanityCheck(applyGroup);
      if (jitWarmup > 0) {
        jitWarmup(report, warmupGroup, server);
      }

      runApplyLevels(report, applyGroup, server);
      int loaded = runLoad(report, queryGroup, server);
      if (settle > 0) {
        CpuSample before = CpuSample.now(server);
        TimeUnit.MILLISECONDS.sleep((long) (settle * 1000));
        report.settle = CpuSample.now(server).minus(before);
        log("idle %.1f s after the load: server CPU %s cores, other CPU %s cores", settle,
            Row.cores(report.settle.serverCores()), Row.cores(report.settle.otherCores()));
      }
      runQueries(report, queryGroup, loaded, server);

      if (server != null) {
        report.serverAliveAtEnd = server.alive();
        report.serverRssBytes = server.rssBytes();
        report.dataBytes = server.dataBytes();
      }
    } catch (Exception e) {
      report.fatal = ClosedLoop.describe(e);
      System.err.println("benchmark failed: " + e);
      e.printStackTrace();
      if (server != null) {
        report.serverAliveAtEnd = server.alive();
        System.err.println("server " + (server.alive() ? "still running" : "exited")
            + "; last lines of " + server.log() + ":\n" + server.logTail(30));
      }
    } finally {
      report.finished = Instant.now();
      if (target != null && !keepData && channels != null) {
        deleteGroup(applyGroup);
        deleteGroup(queryGroup);
        if (jitWarmup > 0) {
          deleteGroup(warmupGroup);
        }
      }
      closeChannels();
      if (server != null) {
        server.close();
      }
      if (workDir != null && !keepData) {
        deleteRecursively(workDir);
      } else if (workDir != null) {
        log("kept data and log under %s", workDir);
      }
    }

    String markdown = report.toMarkdown();
    System.out.println();
    System.out.println(markdown);
    if (docFile != null) {
      BenchDoc.writeSection(docFile, markdown);
      log("wrote section to %s", docFile);
    }
    return report.fatal == null ? 0 : 1;
  }

  private void validate() {
    if (shards < 1 || payloadBytes < 1 || properties < 1 || kinds < 1 || zones < 1
        || channelCount < 1 || loadClients < 1 || criteriaLimit < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "sizes, counts and limits must be positive");
    }
    if (applyClients.stream().anyMatch(c -> c < 1) || queryClients.stream().anyMatch(c -> c < 1)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "client counts must be >= 1");
    }
  }

  // ---------------------------------------------------------------- setup

  private void openChannels(String endpoint) {
    channels = new ManagedChannel[channelCount];
    stubs = new PropertyServiceGrpc.PropertyServiceStub[channelCount];
    for (int i = 0; i < channelCount; i++) {
      channels[i] = ManagedChannelBuilder.forTarget(endpoint).usePlaintext().directExecutor()
          .maxInboundMessageSize(64 << 20).build();
      stubs[i] = PropertyServiceGrpc.newStub(channels[i]);
    }
  }

  private void closeChannels() {
    if (channels == null) {
      return;
    }
    for (ManagedChannel c : channels) {
      c.shutdownNow();
    }
    for (ManagedChannel c : channels) {
      try {
        c.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private PropertyServiceGrpc.PropertyServiceStub stub(int client) {
    return stubs[client % stubs.length];
  }

  private void preparePayloads() {
    Random r = new Random(seed);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    payloadTags = new Tag[256];
    char[] buf = new char[payloadBytes];
    for (int i = 0; i < payloadTags.length; i++) {
      for (int j = 0; j < buf.length; j++) {
        buf[j] = alphabet.charAt(r.nextInt(alphabet.length()));
      }
      payloadTags[i] = strTag("data", new String(buf));
      // Cache the UTF-8 bytes inside the (immutable, shared) message: no re-encoding per request.
      payloadTags[i].getValue().getStr().getValueBytes();
    }
    kindValues = new String[kinds];
    for (int i = 0; i < kinds; i++) {
      kindValues[i] = "kind-" + i;
    }
    zoneValues = new String[zones];
    for (int i = 0; i < zones; i++) {
      zoneValues[i] = "zone-" + i;
    }
  }

  private String apiVersion() {
    try {
      GetAPIVersionResponse v = ServiceGrpc.newBlockingStub(channels[0])
          .withDeadlineAfter(10, TimeUnit.SECONDS)
          .getAPIVersion(GetAPIVersionRequest.getDefaultInstance());
      return v.getVersion().getVersion() + " (revision " + v.getVersion().getRevision() + ")";
    } catch (RuntimeException e) {
      return "unknown (" + ClosedLoop.describe(e) + ")";
    }
  }

  private void setUp(String group) {
    GroupRegistryServiceGrpc.newBlockingStub(channels[0]).withDeadlineAfter(30, TimeUnit.SECONDS)
        .create(GroupRegistryServiceCreateRequest.newBuilder().setGroup(Group.newBuilder()
            .setMetadata(Metadata.newBuilder().setName(group))
            .setCatalog(Catalog.CATALOG_PROPERTY)
            .setResourceOpts(ResourceOpts.newBuilder().setShardNum(shards).setReplicas(replicas))).build());
    PropertyRegistryServiceGrpc.newBlockingStub(channels[0]).withDeadlineAfter(30, TimeUnit.SECONDS)
        .create(PropertyRegistryServiceCreateRequest.newBuilder().setProperty(
            dev.arbor.api.banyandb.database.v1.Property.newBuilder()
                .setMetadata(Metadata.newBuilder().setGroup(group).setName(SCHEMA))
                .addTags(TagSpec.newBuilder().setName("data").setType(TagType.TAG_TYPE_STRING))
                .addTags(TagSpec.newBuilder().setName("ts").setType(TagType.TAG_TYPE_INT))
                .addTags(TagSpec.newBuilder().setName("kind").setType(TagType.TAG_TYPE_STRING))
                .addTags(TagSpec.newBuilder().setName("zone").setType(TagType.TAG_TYPE_STRING)))
            .build());
    log("created group %s (CATALOG_PROPERTY, shard_num %d, replicas %d) and schema %s", group, shards, replicas, SCHEMA);
  }

  private void deleteGroup(String group) {
    try {
      GroupRegistryServiceGrpc.newBlockingStub(channels[0]).withDeadlineAfter(60, TimeUnit.SECONDS)
          .delete(GroupRegistryServiceDeleteRequest.newBuilder().setGroup(group).build());
    } catch (RuntimeException e) {
      log("could not delete group %s: %s", group, e);
    }
  }

  /** One apply and one query by id, blocking, so a broken server fails fast and clearly. */
  private void sanityCheck(String group) {
    PropertyServiceGrpc.PropertyServiceBlockingStub b =
        PropertyServiceGrpc.newBlockingStub(channels[0]).withDeadlineAfter(30, TimeUnit.SECONDS);
    Property p = property(group, "sanity-0", 0, 0, 0);
    ApplyResponse ar = b.apply(ApplyRequest.newBuilder().setProperty(p)
        .setStrategy(ApplyRequest.Strategy.STRATEGY_MERGE).build());
    QueryResponse qr = PropertyServiceGrpc.newBlockingStub(channels[0])
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .query(QueryRequest.newBuilder().addGroups(group).setName(SCHEMA).addIds("sanity-0")
            .setLimit(20).build());
    if (qr.getPropertiesCount() != 1 || !qr.getProperties(0).getId().equals("sanity-0")) {
      throw new IllegalStateException("sanity check failed: applied sanity-0 (created="
          + ar.getCreated() + ", tags_num=" + ar.getTagsNum() + ") but query by id returned "
          + qr.getPropertiesCount() + " properties");
    }
  }

  // ---------------------------------------------------------------- data

  private static Tag strTag(String key, String value) {
    return Tag.newBuilder().setKey(key)
        .setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(value))).build();
  }

  private static Tag intTag(String key, long value) {
    return Tag.newBuilder().setKey(key)
        .setValue(TagValue.newBuilder().setInt(Int.newBuilder().setValue(value))).build();
  }

  private Property property(String group, String id, long n, int kind, int zone) {
    return Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(group).setName(SCHEMA))
        .setId(id)
        .addTags(payloadTags[(int) (n & 255)])
        .addTags(intTag("ts", n))
        .addTags(strTag("kind", kindValues[kind]))
        .addTags(strTag("zone", zoneValues[zone]))
        .build();
  }

  /** Loaded property i has kind i % kinds and zone (i / kinds) % zones. */
  private int kindOf(long i) {
    return (int) (i % kinds);
  }

  private int zoneOf(long i) {
    return (int) ((i / kinds) % zones);
  }

  private static ApplyRequest merge(Property p) {
    return ApplyRequest.newBuilder().setProperty(p)
        .setStrategy(ApplyRequest.Strategy.STRATEGY_MERGE).build();
  }

  // ---------------------------------------------------------------- phases

  /**
   * Exercises every code path measured later (apply, query by id, by criteria) for a while, in a
   * group of its own, so that JIT compilation in the server (and the client) happens here.
   */
  private void jitWarmup(Report report, String group, ServerProcess server)
      throws InterruptedException {
    log("JIT warm-up: apply %.1f s, then each query kind %.1f s, 8 clients, group %s", jitWarmup,
        jitWarmup / 3, group);
    long t0 = System.nanoTime();
    AtomicLong seq = new AtomicLong();
    ClosedLoop.Op<ApplyResponse> apply = (client, observer) -> {
      long n = seq.getAndIncrement();
      stub(client).apply(merge(property(group, "q-" + n, n, kindOf(n), zoneOf(n))), observer);
      return true;
    };
    List<String> notes = new ArrayList<>();
    try {
      ClosedLoop.Window w = ClosedLoop.timed(apply, 8, 0, jitWarmup, server);
      notes.add(String.format("apply %,.0f ops/s", w.opsPerSecond()));
      int applied = (int) Math.max(1, Math.min(w.ops(), seq.get()));
      double q = jitWarmup / 3;
      w = ClosedLoop.timed(byId(group, applied, 8), 8, 0, q, server);
      notes.add(String.format("by id %,.0f ops/s", w.opsPerSecond()));
      w = ClosedLoop.timed(byKind(group, applied, 8), 8, 0, q, server);
      notes.add(String.format("kind %,.0f ops/s", w.opsPerSecond()));
      w = ClosedLoop.timed(byKindAndZone(group, applied, 8), 8, 0, q, server);
      notes.add(String.format("kind AND zone %,.0f ops/s", w.opsPerSecond()));
    } catch (RuntimeException e) {
      notes.add("failed: " + ClosedLoop.describe(e));
    }
    report.jitWarmupSeconds = (System.nanoTime() - t0) / 1e9;
    report.jitWarmupNotes = String.join(", ", notes);
    log("  %s", report.jitWarmupNotes);
  }

  private void runApplyLevels(Report report, String group, ServerProcess server)
      throws InterruptedException {
    AtomicLong seq = new AtomicLong();
    ClosedLoop.Op<ApplyResponse> op = (client, observer) -> {
      long n = seq.getAndIncrement();
      long idNum = applyIdSpace > 0 ? n % applyIdSpace : n;
      stub(client).apply(merge(property(group, "a-" + idNum, n, kindOf(n), zoneOf(n))), observer);
      return true;
    };
    for (int clients : applyClients) {
      log("apply: %d clients, %.1f s warm-up + %.1f s measured", clients, warmup, measure);
      Row row = new Row("apply", clients);
      try {
        row.window = ClosedLoop.timed(op, clients, warmup, measure, server);
        log("  %s", row.summary());
      } catch (RuntimeException e) {
        row.failure = ClosedLoop.describe(e);
        log("  FAILED: %s", row.failure);
      }
      report.apply.add(row);
    }
    report.applyIssued = seq.get();
  }

  private int runLoad(Report report, String group, ServerProcess server)
      throws InterruptedException {
    AtomicLong seq = new AtomicLong();
    ClosedLoop.Op<ApplyResponse> op = (client, observer) -> {
      long n = seq.getAndIncrement();
      if (n >= properties) {
        return false;
      }
      stub(client).apply(merge(property(group, "q-" + n, n, kindOf(n), zoneOf(n))), observer);
      return true;
    };
    log("load: %d properties with %d clients", properties, loadClients);
    ClosedLoop<ApplyResponse> loop = new ClosedLoop<>(op, loadClients);
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

  private void runQueries(Report report, String group, int loaded, ServerProcess server)
      throws InterruptedException {
    report.queryLoaded = loaded;
    for (int clients : queryClients) {
      report.query.add(runQuery("by id", clients, byId(group, loaded, clients), server));
    }
    for (int clients : queryClients) {
      report.query.add(runQuery("kind = X, limit " + criteriaLimit, clients,
          byKind(group, loaded, clients), server));
    }
    for (int clients : queryClients) {
      report.query.add(runQuery("kind = X AND zone = Y, limit " + criteriaLimit, clients,
          byKindAndZone(group, loaded, clients), server));
    }
  }

  private Row runQuery(String name, int clients, ClosedLoop.Op<QueryResponse> op,
      ServerProcess server) throws InterruptedException {
    log("query %s: %d clients, %.1f s warm-up + %.1f s measured", name, clients, queryWarmup,
        queryMeasure);
    Row row = new Row(name, clients);
    try {
      row.window = ClosedLoop.timed(op, clients, queryWarmup, queryMeasure, server);
      log("  %s", row.summary());
    } catch (RuntimeException e) {
      row.failure = ClosedLoop.describe(e);
      log("  FAILED: %s", row.failure);
    }
    return row;
  }

  private ClosedLoop.Op<QueryResponse> byId(String group, int loaded, int clients) {
    String[] expected = new String[clients];
    return new ClosedLoop.Op<>() {
      @Override
      public boolean issue(int client, StreamObserver<QueryResponse> observer) {
        String id = "q-" + ThreadLocalRandom.current().nextInt(loaded);
        expected[client] = id;
        stub(client).query(QueryRequest.newBuilder().addGroups(group).setName(SCHEMA).addIds(id)
            .setLimit(20).build(), observer);
        return true;
      }

      @Override
      public boolean check(int client, QueryResponse r) {
        return r != null && r.getPropertiesCount() == 1
            && r.getProperties(0).getId().equals(expected[client]);
      }
    };
  }

  private static Criteria eq(String tag, String value) {
    return Criteria.newBuilder().setCondition(Condition.newBuilder().setName(tag)
        .setOp(Condition.BinaryOp.BINARY_OP_EQ)
        .setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(value)))
        .setMatchOption(Condition.MatchOption.getDefaultInstance())).build();
  }

  private static boolean allMatch(QueryResponse r, int limit, String tag1, String v1,
      String tag2, String v2) {
    if (r == null || r.getPropertiesCount() == 0 || r.getPropertiesCount() > limit) {
      return false;
    }
    for (Property p : r.getPropertiesList()) {
      boolean ok1 = false, ok2 = tag2 == null;
      for (Tag t : p.getTagsList()) {
        if (t.getKey().equals(tag1)) ok1 = t.getValue().getStr().getValue().equals(v1);
        if (tag2 != null && t.getKey().equals(tag2)) ok2 = t.getValue().getStr().getValue().equals(v2);
      }
      if (!ok1 || !ok2) {
        return false;
      }
    }
    return true;
  }

  private ClosedLoop.Op<QueryResponse> byKind(String group, int loaded, int clients) {
    int[] expected = new int[clients];
    return new ClosedLoop.Op<>() {
      @Override
      public boolean issue(int client, StreamObserver<QueryResponse> observer) {
        int k = ThreadLocalRandom.current().nextInt(kinds);
        expected[client] = k;
        stub(client).query(QueryRequest.newBuilder().addGroups(group).setName(SCHEMA)
            .setCriteria(eq("kind", kindValues[k])).setLimit(criteriaLimit).build(), observer);
        return true;
      }

      @Override
      public boolean check(int client, QueryResponse r) {
        // Property i has kind i % kinds: kind k exists iff k < loaded.
        if (expected[client] >= loaded) {
          return r != null && r.getPropertiesCount() == 0;
        }
        return allMatch(r, criteriaLimit, "kind", kindValues[expected[client]], null, null);
      }
    };
  }

  private ClosedLoop.Op<QueryResponse> byKindAndZone(String group, int loaded, int clients) {
    int[][] expected = new int[clients][2];
    return new ClosedLoop.Op<>() {
      @Override
      public boolean issue(int client, StreamObserver<QueryResponse> observer) {
        int k = ThreadLocalRandom.current().nextInt(kinds);
        int z = ThreadLocalRandom.current().nextInt(zones);
        expected[client][0] = k;
        expected[client][1] = z;
        Criteria and = Criteria.newBuilder().setLe(LogicalExpression.newBuilder()
            .setOp(LogicalExpression.LogicalOp.LOGICAL_OP_AND)
            .setLeft(eq("kind", kindValues[k])).setRight(eq("zone", zoneValues[z]))).build();
        stub(client).query(QueryRequest.newBuilder().addGroups(group).setName(SCHEMA)
            .setCriteria(and).setLimit(criteriaLimit).build(), observer);
        return true;
      }

      @Override
      public boolean check(int client, QueryResponse r) {
        // The first property with kind k and zone z is z * kinds + k.
        if ((long) expected[client][1] * kinds + expected[client][0] >= loaded) {
          return r != null && r.getPropertiesCount() == 0;
        }
        return allMatch(r, criteriaLimit, "kind", kindValues[expected[client][0]], "zone",
            zoneValues[expected[client][1]]);
      }
    };
  }

  // ---------------------------------------------------------------- helpers

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

  private static void deleteRecursively(Path dir) {
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
