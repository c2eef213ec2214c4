package dev.arbor.bench;

import dev.arbor.bench.cluster.BenchPki;
import dev.arbor.bench.cluster.ProcStats;
import dev.arbor.harness.ArborJar;
import dev.arbor.harness.ArborServer;
import dev.arbor.harness.NodeCert;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One server JVM behind an API-benchmark target, started by the shared harness ({@link
 * ArborServer}): {@code arbor standalone --data-dir D/data} on loopback ports, its output in
 * {@code D/server.log}; or {@code arbor dev-cluster} (a liaison and N data nodes in one JVM); or
 * the no-storage ceiling server on the same terms. Ready when {@code GET /health} answers 200
 * (and, for dev-cluster, it printed its data nodes' addresses).
 */
final class ServerProcess implements ServerSide {
  static final long CLOCK_TICKS_PER_SECOND = ProcStats.CLOCK_TICKS_PER_SECOND;
  static final String CEILING_MAIN = "dev.arbor.bench.ceiling.CeilingServer";

  private final ArborServer server;
  private final Path dataDir;
  /** dev-cluster: data node id to internal address, from its output; empty otherwise. */
  private final Map<String, String> dataNodes;

  private ServerProcess(ArborServer server, Path dataDir, Map<String, String> dataNodes) {
    this.server = server;
    this.dataDir = dataDir;
    this.dataNodes = dataNodes;
  }

  static ServerProcess start(Path serverJar, Path workDir, List<String> jvmOpts,
      List<String> extraArgs, Duration startupTimeout) throws IOException {
    return start(serverJar, workDir, jvmOpts, extraArgs, null, startupTimeout);
  }

  /**
   * As above; with {@code tls} the server gets a certificate of that CA on its public ports
   * ({@code --tls-cert-file/--tls-key-file}: gRPC and HTTP), and readiness is checked over HTTPS.
   */
  static ServerProcess start(Path serverJar, Path workDir, List<String> jvmOpts,
      List<String> extraArgs, BenchPki tls, Duration startupTimeout) throws IOException {
    Path dataDir = Files.createDirectories(workDir.resolve("data"));
    ArborServer.Builder b = ArborServer.standalone(ArborJar.of(serverJar), dataDir);
    if (tls != null) {
      NodeCert cert = tls.issue("arbor-standalone");
      b.args("--tls-cert-file", cert.certFile().toString(), "--tls-key-file", cert.keyFile().toString())
          .httpsTrusting(tls.caFile());
    }
    return started(b.args(extraArgs), workDir, jvmOpts, startupTimeout, dataDir, Map.of());
  }

  /**
   * {@code arbor dev-cluster --data-nodes N --base-dir D/data} on loopback, plus {@code extraArgs};
   * ready once healthy and its "liaison serving" line (after the data nodes' addresses) is out.
   */
  static ServerProcess startDevCluster(Path serverJar, Path workDir, int dataNodes,
      List<String> jvmOpts, List<String> extraArgs, Duration startupTimeout) throws IOException {
    Path dataDir = Files.createDirectories(workDir.resolve("data"));
    ArborServer s = configure(ArborServer.devCluster(ArborJar.of(serverJar), dataNodes, dataDir)
        .args(extraArgs), workDir, jvmOpts).start(startupTimeout);
    Map<String, String> nodes = new LinkedHashMap<>();
    Matcher m = DATA_NODE_LINE.matcher(s.output());
    while (m.find()) {
      nodes.put(m.group(1), m.group(2));
    }
    if (nodes.size() != dataNodes) {
      s.close();
      throw new IllegalStateException("dev-cluster printed " + nodes.size() + " data node addresses, "
          + dataNodes + " expected; log " + s.log());
    }
    return new ServerProcess(s, dataDir, Map.copyOf(nodes));
  }

  private static final Pattern DATA_NODE_LINE =
      Pattern.compile("(?m)^data node (\\S+): (\\S+:\\d+) \\(HTTP");

  /**
   * The no-storage ceiling server ({@code dev.arbor.bench.ceiling.CeilingServer}) from this
   * process's own class path (the bench jar), with the given JVM options, logging to
   * {@code workDir/server.log} like the real server.
   */
  static ServerProcess startCeiling(Path workDir, List<String> jvmOpts, Duration startupTimeout)
      throws IOException {
    Path dataDir = Files.createDirectories(workDir.resolve("data"));
    return started(ArborServer.mainClass(System.getProperty("java.class.path"), CEILING_MAIN),
        workDir, jvmOpts, startupTimeout, dataDir, Map.of());
  }

  private static ArborServer.Builder configure(ArborServer.Builder b, Path workDir,
      List<String> jvmOpts) {
    return b.name("server").log(workDir.resolve("server.log")).jvmOpts(jvmOpts);
  }

  private static ServerProcess started(ArborServer.Builder b, Path workDir, List<String> jvmOpts,
      Duration startupTimeout, Path dataDir, Map<String, String> dataNodes) {
    return new ServerProcess(configure(b, workDir, jvmOpts).start(startupTimeout), dataDir, dataNodes);
  }

  @Override
  public String target() {
    return server.grpcTarget();
  }

  @Override
  public boolean alive() {
    return server.alive();
  }

  long pid() {
    return server.pid();
  }

  @Override
  public Path log() {
    return server.log();
  }

  List<String> command() {
    return server.command();
  }

  /** utime + stime of the server process, in nanoseconds; -1 when /proc is unavailable. */
  @Override
  public long cpuNanos() {
    return ProcStats.cpuNanos(server.pid());
  }

  /** Resident set size of the server process in bytes; -1 when unknown. */
  @Override
  public long rssBytes() {
    return ProcStats.rssBytes(server.pid());
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
    return server.logTail(lines);
  }

  @Override
  public int httpPort() {
    return server.httpPort();
  }

  @Override
  public String describe() {
    return "pid " + server.pid();
  }

  @Override
  public boolean pausable() {
    return true;
  }

  @Override
  public Map<String, String> dataNodes() {
    return dataNodes;
  }

  /**
   * Suspends the process (SIGSTOP) while another build is measured, so that its background work
   * (merges, flushes left over from its own last step) does not take CPU from the other's
   * measurement; it catches up once resumed, within its own next warm-up. Only for a process
   * that has no peer whose timers could expire meanwhile: the standalone server and the ceiling.
   */
  @Override
  public void pause() {
    server.signal("STOP");
  }

  /** Resumes a paused process (SIGCONT); harmless when it runs. */
  @Override
  public void resume() {
    server.signal("CONT");
  }

  /** SIGTERM (resumed first: a stopped process would not act on it), SIGKILL after 30 s. */
  @Override
  public void close() {
    resume();
    server.close();
  }
}
