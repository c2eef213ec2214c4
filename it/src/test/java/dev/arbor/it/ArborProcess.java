package dev.arbor.it;

import dev.arbor.harness.ArborJar;
import dev.arbor.harness.ArborServer;
import dev.arbor.harness.ChildProcess;
import dev.arbor.harness.ClusterOfProcesses;
import dev.arbor.harness.EtcdServer;
import dev.arbor.harness.HarnessException;
import dev.arbor.harness.Ports;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.apache.skywalking.banyandb.v1.client.BanyanDBClient;

/**
 * The ITs' view of one Arbor server process: the shared harness's {@link ArborServer} (module
 * {@code harness}, which also serves the benchmarks) with the IT conventions — the jar from
 * failsafe's {@code arbor.jar} property, logs under {@code target/it-logs/}, data under {@code
 * target/it-work/}, the IT JVM options, {@code [arbor-it]} event lines, failures as {@link
 * AssertionError} — and the official client ({@link #connectClient()}).
 */
public final class ArborProcess implements AutoCloseable {
  /** Bound on start-up (JVM start, recovery, bind) until the role serves. */
  public static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
  /** Bound on a graceful stop (SIGTERM until exit). */
  public static final Duration STOP_TIMEOUT = ArborServer.STOP_TIMEOUT;
  /** Bound on the death of a SIGKILLed process. */
  public static final Duration KILL_TIMEOUT = ChildProcess.KILL_TIMEOUT;

  /** Makes log file names unique within one test JVM (a role may be started by several tests). */
  private static final AtomicInteger SEQ = new AtomicInteger();

  private final ArborServer server;

  private ArborProcess(ArborServer server) {
    this.server = server;
  }

  /** The IT view of a process the harness started (e.g. one of a {@link #cluster}'s). */
  public static ArborProcess of(ArborServer server) {
    return new ArborProcess(server);
  }

  /** The IT view of every process in {@code servers}, keys kept. */
  public static LinkedHashMap<String, ArborProcess> of(Map<String, ArborServer> servers) {
    LinkedHashMap<String, ArborProcess> out = new LinkedHashMap<>();
    servers.forEach((k, v) -> out.put(k, of(v)));
    return out;
  }

  /** The harness handle behind this process. */
  public ArborServer server() {
    return server;
  }

  // ---------------------------------------------------------------------------------------------
  // Locations
  // ---------------------------------------------------------------------------------------------

  /** The shaded server jar; fails with a clear message when it has not been built. */
  public static Path jar() {
    return arborJar().path();
  }

  static ArborJar arborJar() {
    String prop = System.getProperty("arbor.jar");
    if (prop == null || prop.isBlank()) {
      throw new AssertionError(
          "System property 'arbor.jar' is not set: run the ITs through Maven failsafe"
              + " (./mvnw -B verify), which passes it, or add -Darbor.jar=/path/to/arbor.jar");
    }
    return asserting(() -> ArborJar.of(Paths.get(prop)));
  }

  /** {@code target/it-logs} (created on demand). */
  public static Path logsDir() {
    return dirFromProperty("arbor.it.logs", "target/it-logs");
  }

  /** A fresh, empty data directory under {@code target/it-work} for one test. */
  public static Path newDataDir(String label) {
    Path root = dirFromProperty("arbor.it.work", "target/it-work");
    try {
      return Files.createTempDirectory(root, label + "-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Deletes a data directory once a test has passed (failed tests keep theirs under
   * target/it-work for inspection).
   */
  public static void deleteDataDir(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }

  private static Path dirFromProperty(String prop, String fallback) {
    Path dir = Paths.get(System.getProperty(prop, fallback)).toAbsolutePath().normalize();
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }

  /** {@code target/it-logs/<name>-<n>.log}. */
  static Path logFor(String name) {
    return logsDir().resolve(name + "-" + SEQ.incrementAndGet() + ".log");
  }

  private static List<String> jvmOpts(String jvmArgs) {
    return Arrays.stream(jvmArgs.trim().split("\\s+")).filter(a -> !a.isEmpty()).toList();
  }

  private static List<String> defaultJvmOpts() {
    return jvmOpts(System.getProperty("arbor.it.serverJvmArgs", "-Xmx512m -XX:+UseSerialGC"));
  }

  /** The IT conventions on a harness builder: log file, JVM options, event lines. */
  private static ArborServer.Builder conventions(ArborServer.Builder b, String name) {
    return b.name(name).log(logFor(name)).jvmOpts(defaultJvmOpts())
        .onEvent(e -> System.out.println("[arbor-it] " + e));
  }

  /**
   * A cluster (etcd + data nodes + liaisons) in {@code work} with the IT conventions; add roles
   * and arguments, then {@code start()}.
   */
  public static ClusterOfProcesses.Builder cluster(Path work) {
    return ClusterOfProcesses.builder(arborJar(), work)
        .logs(ArborProcess::logFor)
        .dataJvmOpts(defaultJvmOpts())
        .liaisonJvmOpts(defaultJvmOpts())
        .startupTimeout(STARTUP_TIMEOUT)
        .onEvent(e -> System.out.println("[arbor-it] " + e));
  }

  /** A real etcd with its data and log under {@code dir}. */
  public static EtcdServer startEtcd(Path dir) {
    return startEtcd(dir, null);
  }

  /** As {@link #startEtcd(Path)}, serving clients over TLS when {@code tls} is not null. */
  public static EtcdServer startEtcd(Path dir, EtcdServer.Tls tls) {
    return asserting(() -> EtcdServer.start(dir, tls));
  }

  /** Harness failures as test failures (their messages carry the log tail). */
  static <T> T asserting(Supplier<T> action) {
    try {
      return action.get();
    } catch (HarnessException e) {
      throw new AssertionError(e.getMessage(), e);
    }
  }

  private static void asserting(Runnable action) {
    asserting(() -> {
      action.run();
      return null;
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Starting
  // ---------------------------------------------------------------------------------------------

  /**
   * Starts {@code arbor standalone} on {@code dataDir} with fresh loopback ports (plus {@code
   * extraArgs}) and waits until /health answers 200 (starting again on other ports only when a
   * picked port was taken meanwhile).
   */
  public static ArborProcess start(String name, Path dataDir, String... extraArgs) {
    return of(asserting(() -> conventions(ArborServer.standalone(arborJar(), dataDir), name)
        .args(extraArgs).start(STARTUP_TIMEOUT)));
  }

  /**
   * Launches {@code arbor standalone} on {@code dataDir} with fresh ports and does NOT wait for it
   * to serve (for tests that expect the start to fail).
   */
  public static ArborProcess launchStandalone(String name, Path dataDir, String... extraArgs) {
    return of(conventions(ArborServer.standalone(arborJar(), dataDir), name).args(extraArgs).launch());
  }

  /** Runs {@code java -jar arbor.jar <args>} (e.g. {@code --help}) without any waiting. */
  public static ArborProcess launchCommand(String name, String... args) {
    return of(conventions(ArborServer.command(arborJar(), Arrays.asList(args)), name).launch());
  }

  // ----- cluster roles -----

  /**
   * Starts {@code arbor data --node-id nodeId} on {@code dataDir} with fresh loopback ports and
   * {@code --metadata metadata} (plus {@code extraArgs}) and waits until it serves /health AND has
   * printed its ready line (printed once the node is registered, so a liaison started afterwards
   * sees it).
   */
  public static ArborProcess startData(
      String name, String nodeId, Path dataDir, String metadata, String... extraArgs) {
    return of(asserting(() -> conventions(ArborServer.data(arborJar(), nodeId, dataDir, metadata), name)
        .args(extraArgs).start(STARTUP_TIMEOUT)));
  }

  /** Launches {@code arbor data} on the given ports and does NOT wait (see {@link #awaitReady}). */
  public static ArborProcess launchData(String name, String nodeId, Path dataDir, int grpcPort,
      int httpPort, String metadata, String... extraArgs) {
    return of(conventions(ArborServer.data(arborJar(), nodeId, dataDir, metadata), name)
        .ports(grpcPort, httpPort).args(extraArgs).launch());
  }

  /**
   * Starts {@code arbor liaison} with fresh loopback ports and {@code --metadata metadata} (plus
   * {@code extraArgs}, e.g. {@code --write-consistency all}) and waits until it serves.
   */
  public static ArborProcess startLiaison(String name, String metadata, String... extraArgs) {
    return of(asserting(() -> conventions(ArborServer.liaison(arborJar(), metadata), name)
        .args(extraArgs).start(STARTUP_TIMEOUT)));
  }

  /**
   * As {@link #startLiaison(String, String, String...)}, with these JVM options instead of {@code
   * arbor.it.serverJvmArgs} (e.g. a heap bound the test is about).
   */
  public static ArborProcess startLiaisonWithJvmArgs(
      String name, String jvmArgs, String metadata, String... extraArgs) {
    return of(asserting(() -> conventions(ArborServer.liaison(arborJar(), metadata), name)
        .jvmOpts(jvmOpts(jvmArgs)).args(extraArgs).start(STARTUP_TIMEOUT)));
  }

  /** Launches {@code arbor liaison} on the given ports and does NOT wait (see {@link #awaitReady}). */
  public static ArborProcess launchLiaison(
      String name, int grpcPort, int httpPort, String metadata, String... extraArgs) {
    return of(conventions(ArborServer.liaison(arborJar(), metadata), name)
        .ports(grpcPort, httpPort).args(extraArgs).launch());
  }

  /**
   * Starts this process's command again (same role, data directory and ports) once it has
   * exited (after {@link #kill9()} or {@link #stop()}), and waits until it is ready. Returns this
   * handle, which now follows the new process.
   */
  public ArborProcess restart() {
    asserting(() -> server.restart(STARTUP_TIMEOUT));
    return this;
  }

  /**
   * As {@link #restart()} without waiting: for a node whose HTTP port is HTTPS (its readiness is
   * then its start line, see {@link #awaitOutput}).
   */
  public ArborProcess relaunch() {
    server.relaunch();
    return this;
  }

  /** Distinct free loopback ports (bound and released; a small race remains). */
  static int[] freePorts(int n) {
    return Ports.free(n);
  }

  /** Waits (bounded) for /health = 200; fails fast if the process exits; log tail on failure. */
  public void awaitHealthy() {
    asserting(() -> server.awaitHealthy(STARTUP_TIMEOUT));
  }

  /**
   * Waits (bounded) until the process serves: /health = 200 and, for the cluster roles, its ready
   * line is in the output (a data node prints it after registering). Fails fast if it exits.
   */
  public void awaitReady() {
    asserting(() -> server.awaitReady(STARTUP_TIMEOUT));
  }

  /**
   * Waits (bounded) until the output contains {@code text}; fails with the log tail on timeout or
   * if the process exits first without having written it.
   */
  public void awaitOutput(String text, Duration timeout) {
    asserting(() -> server.awaitOutput(text, timeout));
  }

  /** True if GET /health answers 200 right now. */
  public boolean healthy() {
    return server.healthy();
  }

  // ---------------------------------------------------------------------------------------------
  // Stopping
  // ---------------------------------------------------------------------------------------------

  /**
   * SIGTERM, then waits up to {@link #STOP_TIMEOUT}; if the process is still alive it is SIGKILLed
   * and this fails with the log tail. Returns the exit code.
   */
  public int stop() {
    return asserting(server::stop);
  }

  /** SIGKILL and asserts the process died of it (exit 137). */
  public void kill9() {
    asserting(server::kill9);
  }

  /** Waits (bounded) for the process to exit by itself; returns whether it did. */
  public boolean waitFor(Duration timeout) {
    return server.waitFor(timeout);
  }

  /** An official client connected to this process's gRPC port. */
  public BanyanDBClient connectClient() throws IOException {
    BanyanDBClient c = new BanyanDBClient(grpcTarget());
    c.connect();
    return c;
  }

  /**
   * This process's {@code /metrics} samples whose line {@code sample} matches (group 1 the name,
   * group 3 the value), labels summed away.
   */
  public Map<String, Double> metrics(Pattern sample) throws IOException, InterruptedException {
    return server.metrics(sample);
  }

  /** Closes what a test left open, in order, skipping nulls; every one is tried. */
  public static void closeAll(AutoCloseable... resources) throws Exception {
    Exception first = null;
    for (AutoCloseable r : resources) {
      try {
        if (r != null) {
          r.close();
        }
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  /** Forcibly ends the process if it still runs (test clean-up). */
  @Override
  public void close() {
    server.destroy();
  }

  // ---------------------------------------------------------------------------------------------
  // Accessors
  // ---------------------------------------------------------------------------------------------

  /** {@code 127.0.0.1:<grpc port>}, the form the official client takes. */
  public String grpcTarget() {
    return server.grpcTarget();
  }

  public int grpcPort() {
    return server.grpcPort();
  }

  /**
   * {@code 127.0.0.1:<internal port>} of a data node: its internal listener (what peers and
   * liaisons call: {@code DataNodeService}, repair, gossip); {@link #grpcTarget} is its admin one.
   */
  public String internalTarget() {
    return server.internalTarget();
  }

  public int httpPort() {
    return server.httpPort();
  }

  public Path dataDir() {
    return server.dataDir();
  }

  /** The arguments after {@code -jar arbor.jar}. */
  public List<String> args() {
    return server.args();
  }

  public Path logFile() {
    return server.log();
  }

  /** The current launch's process. */
  public Process process() {
    return server.process();
  }

  public String name() {
    return server.name();
  }

  /** Everything the current launch wrote so far (stdout + stderr). */
  public String output() {
    return server.output();
  }

  /** The last {@code lines} lines of the current launch's log, framed for failure messages. */
  public String logTail(int lines) {
    return server.logTail(lines);
  }

  @Override
  public String toString() {
    return "ArborProcess[" + name() + " pid=" + server.pid() + " grpc=" + grpcPort() + "]";
  }

  /**
   * SIGTERMs every process at once (they shut down in parallel), then waits for each and returns
   * one line per process that did not exit 0 (with its log tail) or did not stop in time.
   */
  public static List<String> stopAll(List<ArborProcess> processes) {
    return ClusterOfProcesses.stopAll(processes.stream().map(ArborProcess::server).toList());
  }

  /**
   * Starts one data node per id in parallel (each in {@code work/<id>}, named {@code
   * namePrefix + id}) and returns them in id order once every one has registered (printed its
   * ready line), so roles started next see all registrations.
   */
  public static LinkedHashMap<String, ArborProcess> startDataNodes(
      String namePrefix, List<String> ids, Path work, String metadata, String... extraArgs)
      throws IOException {
    Map<String, ArborServer.Builder> builders = new LinkedHashMap<>();
    for (String id : ids) {
      Path dir = Files.createDirectories(work.resolve(id));
      builders.put(id, conventions(ArborServer.data(arborJar(), id, dir, metadata), namePrefix + id)
          .args(extraArgs));
    }
    return of(asserting(() -> ClusterOfProcesses.startAll(builders, STARTUP_TIMEOUT)));
  }
}
