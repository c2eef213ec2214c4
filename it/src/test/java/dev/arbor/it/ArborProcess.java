package dev.arbor.it;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.skywalking.banyandb.v1.client.BanyanDBClient;
import org.awaitility.core.ConditionTimeoutException;

/**
 * One Arbor server running as a child JVM from the shaded jar ({@code server/target/arbor.jar},
 * passed by failsafe as system property {@code arbor.jar}).
 *
 * <p>The harness picks free loopback ports, sends stdout and stderr to a log file under {@code
 * target/it-logs/}, and waits (bounded) for {@code GET /health} to answer 200. The data directory
 * is supplied by the caller so a restart can reuse it. Every process started here is also killed
 * by a shutdown hook if the test JVM exits without stopping it.
 */
public final class ArborProcess implements AutoCloseable {
  /** Bound on start-up (JVM start, recovery, bind) until /health answers 200. */
  public static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
  /** Bound on a graceful stop (SIGTERM until exit). */
  public static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
  /** Bound on the death of a SIGKILLed process. */
  public static final Duration KILL_TIMEOUT = Duration.ofSeconds(15);

  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
  private static final AtomicInteger SEQ = new AtomicInteger();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  static {
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> LIVE.forEach(Process::destroyForcibly), "arbor-it-process-reaper"));
  }

  private final String name;
  private final Path dataDir;
  private final int grpcPort;
  private final int httpPort;
  private final Path logFile;
  private final Process process;
  /** The arguments after {@code -jar arbor.jar} (for {@link #restart()}). */
  private final List<String> args;
  /**
   * A line the role prints once it fully serves (for {@code data}: after registering in the
   * node registry, which happens after /health turns 200); null when /health is enough.
   */
  private final String readyLine;

  private ArborProcess(
      String name,
      Path dataDir,
      int grpcPort,
      int httpPort,
      Path logFile,
      Process process,
      List<String> args,
      String readyLine) {
    this.name = name;
    this.dataDir = dataDir;
    this.grpcPort = grpcPort;
    this.httpPort = httpPort;
    this.logFile = logFile;
    this.process = process;
    this.args = List.copyOf(args);
    this.readyLine = readyLine;
  }

  // ---------------------------------------------------------------------------------------------
  // Locations
  // ---------------------------------------------------------------------------------------------

  /** The shaded server jar; fails with a clear message when it has not been built. */
  public static Path jar() {
    String prop = System.getProperty("arbor.jar");
    if (prop == null || prop.isBlank()) {
      throw new AssertionError(
          "System property 'arbor.jar' is not set: run the ITs through Maven failsafe"
              + " (./mvnw -B verify), which passes it, or add -Darbor.jar=/path/to/arbor.jar");
    }
    Path jar = Paths.get(prop).toAbsolutePath().normalize();
    if (!Files.isRegularFile(jar)) {
      throw new AssertionError(
          "Arbor server jar not found at "
              + jar
              + ": build it first with `./mvnw -B -DskipTests package` (module server)");
    }
    return jar;
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

  // ---------------------------------------------------------------------------------------------
  // Starting
  // ---------------------------------------------------------------------------------------------

  /**
   * Starts {@code arbor standalone} on {@code dataDir} with fresh loopback ports (plus {@code
   * extraArgs}) and waits until /health answers 200. Retries (at most twice) only when the process died because one of the
   * picked ports was taken in the meantime.
   */
  public static ArborProcess start(String name, Path dataDir, String... extraArgs) {
    return startRetryingOnPortRace(() -> launchStandalone(name, dataDir, extraArgs), ArborProcess::awaitHealthy);
  }


  /**
   * Launches {@code arbor standalone} on {@code dataDir} with fresh ports and does NOT wait for it
   * to serve (for tests that expect the start to fail).
   */
  public static ArborProcess launchStandalone(String name, Path dataDir, String... extraArgs) {
    int[] ports = freePorts(2);
    List<String> args =
        new ArrayList<>(
            List.of(
            "standalone",
            "--data-dir",
            dataDir.toAbsolutePath().toString(),
            "--grpc-host",
            "127.0.0.1",
            "--grpc-port",
            Integer.toString(ports[0]),
            "--http-port",
            Integer.toString(ports[1])));
    args.addAll(Arrays.asList(extraArgs));
    return launch(name, dataDir, ports[0], ports[1], args);
  }

  /** Runs {@code java -jar arbor.jar <args>} (e.g. {@code --help}) without any waiting. */
  public static ArborProcess launchCommand(String name, String... args) {
    return launch(name, null, -1, -1, Arrays.asList(args));
  }

  // ----- cluster roles -----

  /**
   * Starts {@code arbor data --node-id nodeId} on {@code dataDir} with fresh loopback ports and
   * {@code --metadata metadata} (e.g. {@code etcd://127.0.0.1:2379}), plus {@code extraArgs}, and
   * waits until it serves /health AND has printed its ready line (printed once the node is
   * registered, so a liaison started afterwards sees it). Retries only on a port race, like
   * {@link #start}.
   */
  public static ArborProcess startData(
      String name, String nodeId, Path dataDir, String metadata, String... extraArgs) {
    return startRetryingOnPortRace(
        () -> {
          int[] ports = freePorts(2);
          return launchData(name, nodeId, dataDir, ports[0], ports[1], metadata, extraArgs);
        });
  }

  /**
   * Launches {@code arbor data} on the given ports and does NOT wait (see {@link #awaitReady}).
   */
  public static ArborProcess launchData(
      String name,
      String nodeId,
      Path dataDir,
      int grpcPort,
      int httpPort,
      String metadata,
      String... extraArgs) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "data",
                "--node-id",
                nodeId,
                "--data-dir",
                dataDir.toAbsolutePath().toString(),
                "--grpc-host",
                "127.0.0.1",
                "--grpc-port",
                Integer.toString(grpcPort),
                "--http-port",
                Integer.toString(httpPort),
                // Loopback: plaintext between the test's nodes is allowed there.
                "--internal-host",
                "127.0.0.1",
                "--internal-port",
                Integer.toString(freePorts(1)[0]),
                "--metadata",
                metadata));
    args.addAll(Arrays.asList(extraArgs));
    return launch(name, dataDir, grpcPort, httpPort, args, "Arbor data node " + nodeId + " serving");
  }

  /**
   * Starts {@code arbor liaison} with fresh loopback ports and {@code --metadata metadata} (plus
   * {@code extraArgs}, e.g. {@code --write-consistency all}) and waits until it serves.
   */
  public static ArborProcess startLiaison(String name, String metadata, String... extraArgs) {
    return startRetryingOnPortRace(
        () -> {
          int[] ports = freePorts(2);
          return launchLiaison(name, ports[0], ports[1], metadata, extraArgs);
        });
  }

  /**
   * As {@link #startLiaison(String, String, String...)}, with these JVM options instead of {@code
   * arbor.it.serverJvmArgs} (e.g. a heap bound the test is about).
   */
  public static ArborProcess startLiaisonWithJvmArgs(
      String name, String jvmArgs, String metadata, String... extraArgs) {
    return startRetryingOnPortRace(
        () -> {
          int[] ports = freePorts(2);
          return launch(name, null, ports[0], ports[1], liaisonArgs(ports[0], ports[1], metadata, extraArgs),
              "Arbor liaison serving", jvmArgs);
        });
  }

  /** Launches {@code arbor liaison} on the given ports and does NOT wait (see {@link #awaitReady}). */
  public static ArborProcess launchLiaison(
      String name, int grpcPort, int httpPort, String metadata, String... extraArgs) {
    return launch(name, null, grpcPort, httpPort, liaisonArgs(grpcPort, httpPort, metadata, extraArgs),
        "Arbor liaison serving");
  }

  private static List<String> liaisonArgs(int grpcPort, int httpPort, String metadata, String... extraArgs) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "liaison",
                "--grpc-host",
                "127.0.0.1",
                "--grpc-port",
                Integer.toString(grpcPort),
                "--http-port",
                Integer.toString(httpPort),
                "--metadata",
                metadata));
    args.addAll(Arrays.asList(extraArgs));
    return args;
  }

  /**
   * Starts this process's command again (same role, data directory and ports) once it has
   * exited (after {@link #kill9()} or {@link #stop()}), and waits until the new one is ready.
   */
  public ArborProcess restart() {
    if (process.isAlive()) {
      throw new IllegalStateException("arbor " + name + " is still running (pid " + process.pid() + ")");
    }
    ArborProcess next = launch(name, dataDir, grpcPort, httpPort, args, readyLine);
    try {
      next.awaitReady();
    } catch (AssertionError e) {
      next.close();
      throw e;
    }
    return next;
  }

  /**
   * As {@link #restart()} without waiting: for a node whose HTTP port is HTTPS (its readiness is
   * then its start line, see {@link #awaitOutput}).
   */
  public ArborProcess relaunch() {
    if (process.isAlive()) {
      throw new IllegalStateException("arbor " + name + " is still running (pid " + process.pid() + ")");
    }
    return launch(name, dataDir, grpcPort, httpPort, args, readyLine);
  }

  private static ArborProcess startRetryingOnPortRace(
      java.util.function.Supplier<ArborProcess> launcher) {
    return startRetryingOnPortRace(launcher, ArborProcess::awaitReady);
  }

  /** Launches and waits with {@code ready}; relaunches (up to 3 times) when a picked port was taken. */
  private static ArborProcess startRetryingOnPortRace(
      java.util.function.Supplier<ArborProcess> launcher, java.util.function.Consumer<ArborProcess> ready) {
    jar();
    AssertionError last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      ArborProcess p = launcher.get();
      try {
        ready.accept(p);
        return p;
      } catch (AssertionError e) {
        p.close();
        last = e;
        String log = p.output();
        boolean portRace =
            !p.process.isAlive()
                && (log.contains("Address already in use") || log.contains("BindException"));
        if (!portRace) {
          throw e;
        }
      }
    }
    throw last;
  }

  private static ArborProcess launch(
      String name, Path dataDir, int grpcPort, int httpPort, List<String> args) {
    return launch(name, dataDir, grpcPort, httpPort, args, null);
  }

  private static ArborProcess launch(
      String name,
      Path dataDir,
      int grpcPort,
      int httpPort,
      List<String> args,
      String readyLine) {
    return launch(name, dataDir, grpcPort, httpPort, args, readyLine,
        System.getProperty("arbor.it.serverJvmArgs", "-Xmx512m -XX:+UseSerialGC"));
  }

  private static ArborProcess launch(
      String name,
      Path dataDir,
      int grpcPort,
      int httpPort,
      List<String> args,
      String readyLine,
      String jvmArgs) {
    Path jar = jar();
    Path log = logsDir().resolve(name + "-" + SEQ.incrementAndGet() + ".log");
    List<String> cmd = new ArrayList<>();
    cmd.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    for (String a : jvmArgs.trim().split("\\s+")) {
      if (!a.isEmpty()) {
        cmd.add(a);
      }
    }
    cmd.add("-jar");
    cmd.add(jar.toString());
    cmd.addAll(args);
    ProcessBuilder pb =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()))
            // never the data dir: files a server writes to its cwd must not pollute it
            .directory(logsDir().toFile());
    try {
      Process process = pb.start();
      LIVE.add(process);
      process.onExit().thenRun(() -> LIVE.remove(process));
      System.out.printf(
          "[arbor-it] started %s pid=%d grpc=%d http=%d log=%s cmd=%s%n",
          name, process.pid(), grpcPort, httpPort, log, String.join(" ", cmd));
      return new ArborProcess(name, dataDir, grpcPort, httpPort, log, process, args, readyLine);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + cmd, e);
    }
  }

  /** Distinct free loopback ports (bound and released; a small race remains, see start()). */
  static int[] freePorts(int n) {
    int[] ports = new int[n];
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < n; i++) {
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        s.setReuseAddress(true);
        held.add(s);
        ports[i] = s.getLocalPort();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      for (ServerSocket s : held) {
        try {
          s.close();
        } catch (IOException ignored) {
          // best effort
        }
      }
    }
    return ports;
  }

  /** Waits (bounded) for /health = 200; fails fast if the process exits; log tail on failure. */
  public void awaitHealthy() {
    try {
      await("arbor " + name + " /health")
          .atMost(STARTUP_TIMEOUT)
          .pollDelay(Duration.ofMillis(100))
          .pollInterval(Duration.ofMillis(200))
          .until(
              () -> {
                if (!process.isAlive()) {
                  throw new AssertionError(
                      "arbor "
                          + name
                          + " exited with code "
                          + process.exitValue()
                          + " before serving\n"
                          + logTail(60));
                }
                return healthy();
              });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(
          "arbor "
              + name
              + " did not answer 200 on http://127.0.0.1:"
              + httpPort
              + "/health within "
              + STARTUP_TIMEOUT.toSeconds()
              + " s (alive="
              + process.isAlive()
              + ")\n"
              + logTail(60),
          e);
    }
  }

  /**
   * Waits (bounded) until the process serves: /health = 200 and, for the cluster roles, its ready
   * line is in the output (a data node prints it after registering). Fails fast if it exits.
   */
  public void awaitReady() {
    awaitHealthy();
    if (readyLine != null) {
      awaitOutput(readyLine, STARTUP_TIMEOUT);
    }
  }

  /**
   * Waits (bounded) until the output contains {@code text}; fails with the log tail on timeout or
   * if the process exits first without having written it.
   */
  public void awaitOutput(String text, Duration timeout) {
    try {
      await("arbor " + name + " output contains '" + text + "'")
          .atMost(timeout)
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                if (output().contains(text)) {
                  return true;
                }
                if (!process.isAlive()) {
                  throw new AssertionError(
                      "arbor " + name + " exited with code " + process.exitValue()
                          + " without printing '" + text + "'\n" + logTail(60));
                }
                return false;
              });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError(
          "arbor " + name + " did not print '" + text + "' within " + timeout.toSeconds()
              + " s (alive=" + process.isAlive() + ")\n" + logTail(60),
          e);
    }
  }

  /** True if GET /health answers 200 right now. */
  public boolean healthy() {
    try {
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/health"))
                  .timeout(Duration.ofSeconds(2))
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Stopping
  // ---------------------------------------------------------------------------------------------

  /**
   * SIGTERM (Process.destroy()), then waits up to {@link #STOP_TIMEOUT}; if the process is still
   * alive it is SIGKILLed and this fails with the log tail. Returns the exit code.
   */
  public int stop() {
    if (!process.isAlive()) {
      return process.exitValue();
    }
    process.destroy();
    if (!waitFor(STOP_TIMEOUT)) {
      process.destroyForcibly();
      waitFor(KILL_TIMEOUT);
      throw new AssertionError(
          "arbor "
              + name
              + " did not exit within "
              + STOP_TIMEOUT.toSeconds()
              + " s of SIGTERM (killed with SIGKILL)\n"
              + logTail(60));
    }
    int code = process.exitValue();
    System.out.printf("[arbor-it] stopped %s pid=%d exit=%d%n", name, process.pid(), code);
    return code;
  }

  /** SIGKILL (Process.destroyForcibly() on Linux) and asserts the process is dead. */
  public void kill9() {
    process.destroyForcibly();
    if (!waitFor(KILL_TIMEOUT) || process.isAlive()) {
      throw new AssertionError(
          "arbor " + name + " (pid " + process.pid() + ") still alive after SIGKILL");
    }
    int code = process.exitValue();
    // 128 + SIGKILL(9): the JVM had no chance to run shutdown hooks.
    if (code != 137) {
      throw new AssertionError(
          "arbor " + name + " exited with " + code + " instead of 137 after SIGKILL\n" + logTail(30));
    }
    System.out.printf("[arbor-it] killed -9 %s pid=%d%n", name, process.pid());
  }

  /** Waits (bounded) for the process to exit by itself; returns whether it did. */
  public boolean waitFor(Duration timeout) {
    try {
      return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
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
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort() + "/metrics"))
            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("/metrics of " + name + " answered " + r.statusCode());
    }
    Map<String, Double> out = new LinkedHashMap<>();
    for (String line : r.body().lines().toList()) {
      Matcher m = sample.matcher(line);
      if (m.matches()) {
        out.merge(m.group(1), Double.parseDouble(m.group(3)), Double::sum);
      }
    }
    return out;
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
    if (process.isAlive()) {
      process.destroyForcibly();
      waitFor(KILL_TIMEOUT);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Accessors
  // ---------------------------------------------------------------------------------------------

  /** {@code 127.0.0.1:<grpc port>}, the form the official client takes. */
  public String grpcTarget() {
    return "127.0.0.1:" + grpcPort;
  }

  public int grpcPort() {
    return grpcPort;
  }

  /**
   * {@code 127.0.0.1:<internal port>} of a data node: its internal listener (what peers and
   * liaisons call: {@code DataNodeService}, repair, gossip); {@link #grpcTarget} is its admin one.
   */
  public String internalTarget() {
    int i = args.indexOf("--internal-port");
    if (i < 0) {
      throw new IllegalStateException(name + " is not a data node with an --internal-port");
    }
    return "127.0.0.1:" + args.get(i + 1);
  }

  public int httpPort() {
    return httpPort;
  }

  public Path dataDir() {
    return dataDir;
  }

  /** The arguments after {@code -jar arbor.jar}. */
  public List<String> args() {
    return args;
  }

  public Path logFile() {
    return logFile;
  }

  public Process process() {
    return process;
  }

  public String name() {
    return name;
  }

  /** Everything the process wrote so far (stdout + stderr). */
  public String output() {
    try {
      return Files.readString(logFile, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "<cannot read " + logFile + ": " + e + ">";
    }
  }

  /** The last {@code lines} lines of the log, framed for failure messages. */
  public String logTail(int lines) {
    List<String> all = output().lines().toList();
    List<String> tail = all.subList(Math.max(0, all.size() - lines), all.size());
    return "----- last "
        + tail.size()
        + " lines of "
        + logFile
        + " -----\n"
        + String.join("\n", tail)
        + "\n----- end of log -----";
  }

  @Override
  public String toString() {
    return "ArborProcess[" + name + " pid=" + process.pid() + " grpc=" + grpcPort + "]";
  }

  /**
   * SIGTERMs every process at once (they shut down in parallel), then waits for each and returns
   * one line per process that did not exit 0 (with its log tail) or did not stop in time.
   */
  public static List<String> stopAll(List<ArborProcess> processes) {
    processes.forEach(p -> p.process().destroy());
    List<String> problems = new ArrayList<>();
    for (ArborProcess p : processes) {
      try {
        int code = p.stop();
        if (code != 0) {
          problems.add(p.name() + " exited with " + code + " after SIGTERM\n" + p.logTail(30));
        }
      } catch (AssertionError e) {
        problems.add(e.getMessage());
      }
    }
    return problems;
  }

  /**
   * Starts one data node per id in parallel (each in {@code work/<id>}, named {@code
   * namePrefix + id}) and returns them in id order once every one has registered (printed its
   * ready line), so roles started next see all registrations.
   */
  public static java.util.LinkedHashMap<String, ArborProcess> startDataNodes(
      String namePrefix, List<String> ids, Path work, String metadata, String... extraArgs) throws Exception {
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(ids.size());
    try {
      java.util.Map<String, java.util.concurrent.Future<ArborProcess>> starting = new java.util.LinkedHashMap<>();
      for (String id : ids) {
        Path dir = Files.createDirectories(work.resolve(id));
        starting.put(id, pool.submit(() -> startData(namePrefix + id, id, dir, metadata, extraArgs)));
      }
      java.util.LinkedHashMap<String, ArborProcess> out = new java.util.LinkedHashMap<>();
      for (var e : starting.entrySet()) {
        out.put(e.getKey(), e.getValue().get(STARTUP_TIMEOUT.toSeconds() * 3, TimeUnit.SECONDS));
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }
}
