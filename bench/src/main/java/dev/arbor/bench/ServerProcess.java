package dev.arbor.bench;

import dev.arbor.bench.cluster.BenchPki;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The standalone server run as a child process: {@code java <jvm opts> -jar arbor.jar standalone
 * --data-dir D --grpc-host 127.0.0.1 --grpc-port P --http-port H}, its output going to
 * {@code D/../server.log}; or {@code arbor dev-cluster} (a liaison and N data nodes in one JVM)
 * or the no-storage ceiling server on the same terms. Ready when {@code GET /health} answers 200
 * (and, for dev-cluster, it printed its data nodes' addresses).
 */
final class ServerProcess implements ServerSide {
  static final long CLOCK_TICKS_PER_SECOND = clockTicks();
  static final String CEILING_MAIN = "dev.arbor.bench.ceiling.CeilingServer";

  private final Process process;
  private final Path dataDir;
  private final Path log;
  private final int grpcPort;
  private final int httpPort;
  private final List<String> command;
  /** dev-cluster: data node id to internal address, from its output; empty otherwise. */
  private Map<String, String> dataNodes = Map.of();

  private ServerProcess(Process process, Path dataDir, Path log, int grpcPort, int httpPort,
      List<String> command) {
    this.process = process;
    this.dataDir = dataDir;
    this.log = log;
    this.grpcPort = grpcPort;
    this.httpPort = httpPort;
    this.command = command;
  }

  static ServerProcess start(Path serverJar, Path workDir, List<String> jvmOpts,
      List<String> extraArgs, Duration startupTimeout) throws IOException, InterruptedException {
    return start(serverJar, workDir, jvmOpts, extraArgs, null, startupTimeout);
  }

  /**
   * As above; with {@code tls} the server gets a certificate of that CA on its public ports
   * ({@code --tls-cert-file/--tls-key-file}: gRPC and HTTP), and readiness is checked over HTTPS.
   */
  static ServerProcess start(Path serverJar, Path workDir, List<String> jvmOpts,
      List<String> extraArgs, BenchPki tls, Duration startupTimeout)
      throws IOException, InterruptedException {
    if (!Files.isRegularFile(serverJar)) {
      throw new IllegalStateException("server jar not found: " + serverJar
          + " (build it: ./mvnw -B -DskipTests package)");
    }
    Path dataDir = Files.createDirectories(workDir.resolve("data"));
    BenchPki.Leaf cert = tls == null ? null : tls.issue("arbor-standalone");
    return launch(workDir, dataDir, jvmOpts, (grpcPort, httpPort) -> {
      List<String> args = new ArrayList<>(List.of("-jar", serverJar.toString(), "standalone",
          "--data-dir", dataDir.toString(), "--grpc-host", "127.0.0.1",
          "--grpc-port", Integer.toString(grpcPort), "--http-port", Integer.toString(httpPort)));
      if (cert != null) {
        args.addAll(List.of("--tls-cert-file", cert.certFile().toString(),
            "--tls-key-file", cert.keyFile().toString()));
      }
      args.addAll(extraArgs);
      return args;
    }, tls, startupTimeout);
  }

  /**
   * {@code arbor dev-cluster --data-nodes N --base-dir D/data} on loopback, plus {@code extraArgs};
   * ready once healthy and its "liaison serving" line (after the data nodes' addresses) is out.
   */
  static ServerProcess startDevCluster(Path serverJar, Path workDir, int dataNodes,
      List<String> jvmOpts, List<String> extraArgs, Duration startupTimeout)
      throws IOException, InterruptedException {
    if (!Files.isRegularFile(serverJar)) {
      throw new IllegalStateException("server jar not found: " + serverJar
          + " (build it: ./mvnw -B -DskipTests package)");
    }
    Path dataDir = Files.createDirectories(workDir.resolve("data"));
    ServerProcess p = launch(workDir, dataDir, jvmOpts, (grpcPort, httpPort) -> {
      List<String> args = new ArrayList<>(List.of("-jar", serverJar.toString(), "dev-cluster",
          "--data-nodes", Integer.toString(dataNodes), "--base-dir", dataDir.toString(),
          "--grpc-host", "127.0.0.1", "--grpc-port", Integer.toString(grpcPort),
          "--http-port", Integer.toString(httpPort)));
      args.addAll(extraArgs);
      return args;
    }, null, startupTimeout);
    long deadline = System.nanoTime() + startupTimeout.toNanos();
    while (!p.logText().contains("Arbor dev cluster: liaison serving")) {
      if (System.nanoTime() > deadline || !p.alive()) {
        p.close();
        throw new IllegalStateException("dev-cluster did not print its addresses; log " + p.log
            + ":\n" + p.logTail(40));
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    Map<String, String> nodes = new LinkedHashMap<>();
    Matcher m = DATA_NODE_LINE.matcher(p.logText());
    while (m.find()) {
      nodes.put(m.group(1), m.group(2));
    }
    if (nodes.size() != dataNodes) {
      p.close();
      throw new IllegalStateException("dev-cluster printed " + nodes.size() + " data node addresses, "
          + dataNodes + " expected; log " + p.log);
    }
    p.dataNodes = Map.copyOf(nodes);
    return p;
  }

  private static final Pattern DATA_NODE_LINE =
      Pattern.compile("(?m)^data node (\\S+): (\\S+:\\d+) \\(HTTP");

  private String logText() {
    try {
      return Files.readString(log, StandardCharsets.UTF_8);
    } catch (IOException | UncheckedIOException e) {
      return "";
    }
  }

  /**
   * The no-storage ceiling server ({@code dev.arbor.bench.ceiling.CeilingServer}) from this
   * process's own class path (the bench jar), with the given JVM options, logging to
   * {@code workDir/server.log} like the real server.
   */
  static ServerProcess startCeiling(Path workDir, List<String> jvmOpts, Duration startupTimeout)
      throws IOException, InterruptedException {
    Path dataDir = Files.createDirectories(workDir.resolve("data"));
    String classPath = System.getProperty("java.class.path");
    return launch(workDir, dataDir, jvmOpts, (grpcPort, httpPort) -> List.of("-cp", classPath,
        CEILING_MAIN, "--grpc-host", "127.0.0.1", "--grpc-port", Integer.toString(grpcPort),
        "--http-port", Integer.toString(httpPort)), null, startupTimeout);
  }

  /** What follows {@code java <jvm opts>} for a server on the given ports. */
  private interface Arguments {
    List<String> on(int grpcPort, int httpPort);
  }

  private static ServerProcess launch(Path workDir, Path dataDir, List<String> jvmOpts,
      Arguments arguments, BenchPki tls, Duration startupTimeout)
      throws IOException, InterruptedException {
    Path log = workDir.resolve("server.log");
    int grpcPort = freePort();
    int httpPort = freePort();
    while (httpPort == grpcPort) {
      httpPort = freePort();
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOpts);
    cmd.addAll(arguments.on(grpcPort, httpPort));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    ServerProcess server = new ServerProcess(p, dataDir, log, grpcPort, httpPort, cmd);
    Runtime.getRuntime().addShutdownHook(new Thread(server::kill, "kill-arbor-server"));
    try {
      server.awaitHealthy(tls, startupTimeout);
    } catch (RuntimeException | InterruptedException e) {
      server.close();
      throw e;
    }
    return server;
  }

  /** {@code tls} non-null: the HTTP port serves HTTPS with a certificate of that CA. */
  private void awaitHealthy(BenchPki tls, Duration timeout) throws InterruptedException {
    HttpClient http = tls == null
        ? HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build()
        : tls.httpClient(Duration.ofSeconds(1));
    URI uri = URI.create((tls == null ? "http" : "https") + "://127.0.0.1:" + httpPort + "/health");
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no answer";
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("server exited with code " + process.exitValue()
            + " before becoming healthy; log " + log + ":\n" + logTail(40));
      }
      try {
        HttpResponse<String> r = http.send(
            HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2)).GET().build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
        last = "HTTP " + r.statusCode();
      } catch (IOException e) {
        last = e.toString();
      }
      TimeUnit.MILLISECONDS.sleep(200);
    }
    throw new IllegalStateException("server not healthy after " + timeout.toSeconds()
        + " s (last: " + last + "); log " + log + ":\n" + logTail(40));
  }

  @Override
  public String target() {
    return "127.0.0.1:" + grpcPort;
  }

  @Override
  public boolean alive() {
    return process.isAlive();
  }

  long pid() {
    return process.pid();
  }

  @Override
  public Path log() {
    return log;
  }

  List<String> command() {
    return command;
  }

  /** utime + stime of the server process, in nanoseconds; -1 when /proc is unavailable. */
  @Override
  public long cpuNanos() {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
      return ticks * (1_000_000_000L / CLOCK_TICKS_PER_SECOND);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** Resident set size of the server process in bytes; -1 when unknown. */
  @Override
  public long rssBytes() {
    try {
      for (String line : Files.readAllLines(
          Path.of("/proc", Long.toString(process.pid()), "status"))) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // unknown
    }
    return -1;
  }

  /** Bytes of files under the data directory. */
  @Override
  public long dataBytes() {
    try (Stream<Path> s = Files.walk(dataDir)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          return 0;
        }
      }).sum();
    } catch (IOException | UncheckedIOException e) {
      return -1;
    }
  }

  @Override
  public String logTail(int lines) {
    try {
      List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | UncheckedIOException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  /**
   * Suspends the process (SIGSTOP) while another build is measured, so that its background work
   * (merges, flushes left over from its own last step) does not take CPU from the other's
   * measurement; it catches up once resumed, within its own next warm-up. Only for a process
   * that has no peer whose timers could expire meanwhile: the standalone server and the ceiling.
   */
  @Override
  public int httpPort() {
    return httpPort;
  }

  @Override
  public String describe() {
    return "pid " + process.pid();
  }

  @Override
  public boolean pausable() {
    return true;
  }

  @Override
  public Map<String, String> dataNodes() {
    return dataNodes;
  }

  @Override
  public void pause() {
    signal("-STOP");
  }

  /** Resumes a paused process (SIGCONT); harmless when it runs. */
  @Override
  public void resume() {
    signal("-CONT");
  }

  private void signal(String signal) {
    if (!process.isAlive()) {
      return;
    }
    try {
      Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid()))
          .redirectErrorStream(true).start();
      kill.getInputStream().readAllBytes();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new IllegalStateException("kill " + signal + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("kill " + signal + " " + process.pid(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted sending " + signal, e);
    }
  }

  private void kill() {
    if (process.isAlive()) {
      process.destroyForcibly();
    }
  }

  /** SIGTERM, then SIGKILL after 15 s (resumed first: a stopped process would not act on it). */
  @Override
  public void close() {
    if (!process.isAlive()) {
      return;
    }
    resume();
    process.destroy();
    try {
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }

  private static long clockTicks() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
      p.waitFor(5, TimeUnit.SECONDS);
      long v = Long.parseLong(out);
      return v > 0 ? v : 100;
    } catch (IOException | RuntimeException | InterruptedException e) {
      return 100;
    }
  }
}
