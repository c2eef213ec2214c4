package dev.arbor.harness;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code arbor} role ({@code standalone}, {@code data}, {@code liaison}, or any other command)
 * run as a child JVM from a server jar on loopback ports. The handle outlives its process: {@link
 * #kill9()} or {@link #stop()} end it, {@link #restart(Duration)} starts the same command line
 * again (same data directory and ports) and appends to the same log.
 *
 * <p>Ready means {@code GET /health} answers 200 (over HTTPS when the node serves it) and, for
 * the cluster roles, the role printed its serving line — a data node prints it once registered,
 * so roles started afterwards see it.
 */
public final class ArborServer implements AutoCloseable {
  /** Bound on a graceful stop (SIGTERM until exit). */
  public static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
  private static final HttpClient PLAIN_HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  private final String name;
  private final String nodeId;
  private final Path dataDir;
  private final int grpcPort;
  private final int httpPort;
  private final int internalPort;
  private final List<String> args;
  private final String readyLine;
  private final boolean checkHealth;
  /** Null: plaintext HTTP; otherwise HTTPS trusting a CA. */
  private final HttpClient httpsClient;
  private final Consumer<String> events;
  private final ChildProcess child;

  private ArborServer(Builder b, int grpcPort, int httpPort, int internalPort, List<String> args,
      List<String> command) {
    this.name = b.name;
    this.nodeId = b.nodeId;
    this.dataDir = b.dataDir;
    this.grpcPort = grpcPort;
    this.httpPort = httpPort;
    this.internalPort = internalPort;
    this.args = List.copyOf(args);
    this.readyLine = b.readyLine;
    this.checkHealth = b.checkHealth;
    this.httpsClient = b.httpsCa == null ? null
        : CertificateAuthority.httpClientTrusting(b.httpsCa, Duration.ofSeconds(1));
    this.events = b.events;
    this.child = new ChildProcess(b.name, command, b.log, b.log.getParent());
  }

  // ---------------------------------------------------------------------------------------------
  // Building
  // ---------------------------------------------------------------------------------------------

  /** {@code arbor standalone --data-dir D} on fresh loopback ports; ready on /health. */
  public static Builder standalone(ArborJar jar, Path dataDir) {
    Builder b = new Builder(jar, "standalone");
    b.dataDir = dataDir;
    return b;
  }

  /**
   * {@code arbor data --node-id ID --data-dir D --metadata M} on fresh loopback ports (and an
   * internal listener on loopback when the build has one: plaintext between nodes is allowed
   * there); ready once registered.
   */
  public static Builder data(ArborJar jar, String nodeId, Path dataDir, String metadata) {
    Builder b = new Builder(jar, "data");
    b.nodeId = nodeId;
    b.dataDir = dataDir;
    b.metadata = metadata;
    b.readyLine = "Arbor data node " + nodeId + " serving";
    return b;
  }

  /**
   * {@code arbor dev-cluster --data-nodes N --base-dir D} (a liaison and N data nodes in one JVM)
   * on fresh loopback ports; ready once its liaison serves (after it printed the data nodes'
   * addresses).
   */
  public static Builder devCluster(ArborJar jar, int dataNodes, Path baseDir) {
    Builder b = new Builder(jar, "dev-cluster");
    b.roleArgs.addAll(List.of("--data-nodes", Integer.toString(dataNodes),
        "--base-dir", baseDir.toAbsolutePath().toString()));
    b.readyLine = "Arbor dev cluster: liaison serving";
    return b;
  }

  /**
   * A server that is not in a jar but takes the same listener flags and serves {@code /health}
   * ({@code --grpc-host 127.0.0.1 --grpc-port P --http-port H}): {@code mainClass} from {@code
   * classPath} (the benchmarks' no-storage ceiling server).
   */
  public static Builder mainClass(String classPath, String mainClass) {
    Builder b = new Builder(null, "");
    b.launcher = List.of("-cp", classPath, mainClass);
    return b;
  }

  /** {@code arbor liaison --metadata M} on fresh loopback ports; ready once serving. */
  public static Builder liaison(ArborJar jar, String metadata) {
    Builder b = new Builder(jar, "liaison");
    b.metadata = metadata;
    b.readyLine = "Arbor liaison serving";
    return b;
  }

  /** {@code arbor <args>} as given (e.g. {@code --help}, a CLI command): no ports, no readiness. */
  public static Builder command(ArborJar jar, List<String> args) {
    Builder b = new Builder(jar, null);
    b.extraArgs.addAll(args);
    b.checkHealth = false;
    return b;
  }

  /** How to start one role; {@link #start(Duration)} or {@link #launch()} it. */
  public static final class Builder {
    private final ArborJar jar;
    /** The role word ({@code data}...); "" for listener flags without one; null for neither. */
    private final String role;
    private final List<String> roleArgs = new ArrayList<>();
    private List<String> launcher;
    private String name;
    private String nodeId;
    private Path dataDir;
    private String metadata;
    private String readyLine;
    private boolean checkHealth = true;
    private Path httpsCa;
    private Path log;
    private List<String> jvmOpts = List.of();
    private final List<String> extraArgs = new ArrayList<>();
    private int grpcPort = -1;
    private int httpPort = -1;
    private Consumer<String> events = e -> { };

    private Builder(ArborJar jar, String role) {
      this.jar = jar;
      this.role = role;
      this.name = role == null || role.isEmpty() ? "arbor" : role;
      this.launcher = jar == null ? List.of() : List.of("-jar", jar.path().toString());
    }

    /** The name in messages and events. */
    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /** Where stdout and stderr go (a restart appends); its directory is the process's cwd. Required. */
    public Builder log(Path log) {
      this.log = log;
      return this;
    }

    /** Options between {@code java} and {@code -jar} (heap, GC). */
    public Builder jvmOpts(List<String> jvmOpts) {
      this.jvmOpts = List.copyOf(jvmOpts);
      return this;
    }

    /** Arguments after the role's own (flags under test, {@code --node-ttl}, TLS files). */
    public Builder args(List<String> args) {
      this.extraArgs.addAll(args);
      return this;
    }

    public Builder args(String... args) {
      return args(Arrays.asList(args));
    }

    /** These ports instead of fresh ones (a test that must know them before the start). */
    public Builder ports(int grpcPort, int httpPort) {
      this.grpcPort = grpcPort;
      this.httpPort = httpPort;
      return this;
    }

    /** The HTTP port serves HTTPS with a certificate of the CA in {@code caFile}. */
    public Builder httpsTrusting(Path caFile) {
      this.httpsCa = caFile;
      return this;
    }

    /** Readiness is the serving line alone (no {@code /health} poll). */
    public Builder withoutHealthCheck() {
      this.checkHealth = false;
      return this;
    }

    /** Receives one line per start, stop and kill (e.g. to print them); none by default. */
    public Builder onEvent(Consumer<String> events) {
      this.events = events;
      return this;
    }

    /** Launches and does not wait (for a start that is expected to fail, or a CLI command). */
    public ArborServer launch() {
      if (log == null) {
        throw new IllegalStateException("no log file given for " + name);
      }
      int grpc = grpcPort;
      int http = httpPort;
      int internal = -1;
      if (role != null && grpc < 0) {
        int[] ports = Ports.free(2);
        grpc = ports[0];
        http = ports[1];
      }
      List<String> args = new ArrayList<>();
      if (role != null) {
        if (!role.isEmpty()) {
          args.add(role);
        }
        args.addAll(roleArgs);
        if (nodeId != null) {
          args.addAll(List.of("--node-id", nodeId));
        }
        if (dataDir != null) {
          args.addAll(List.of("--data-dir", dataDir.toAbsolutePath().toString()));
        }
        args.addAll(List.of("--grpc-host", "127.0.0.1", "--grpc-port", Integer.toString(grpc),
            "--http-port", Integer.toString(http)));
        if ("data".equals(role) && jar.hasInternalListener()) {
          internal = Ports.free(1)[0];
          args.addAll(List.of("--internal-host", "127.0.0.1",
              "--internal-port", Integer.toString(internal)));
        }
        if (metadata != null) {
          args.addAll(List.of("--metadata", metadata));
        }
      }
      args.addAll(extraArgs);
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(jvmOpts);
      command.addAll(launcher);
      command.addAll(args);
      ArborServer server = new ArborServer(this, grpc, http, internal, args, command);
      server.launchProcess();
      return server;
    }

    /**
     * Launches and waits (bounded by {@code timeout}) until ready; starts again on fresh ports
     * (at most three times) only when a picked port was taken meanwhile.
     */
    public ArborServer start(Duration timeout) {
      HarnessException last = null;
      for (int attempt = 0; attempt < 3; attempt++) {
        ArborServer s = launch();
        try {
          s.awaitReady(timeout);
          return s;
        } catch (HarnessException e) {
          s.child.destroy();
          last = e;
          if (grpcPort >= 0 || !s.child.bindFailed()) {
            throw e;
          }
          s.events.accept("port taken, starting " + name + " again on other ports");
        }
      }
      throw last;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle
  // ---------------------------------------------------------------------------------------------

  private void launchProcess() {
    child.launch();
    events.accept("started " + name + " pid=" + child.pid() + " grpc=" + grpcPort + " http="
        + httpPort + " log=" + child.log() + " cmd=" + String.join(" ", child.command()));
  }

  /**
   * Waits (bounded) until ready: {@code /health} answers 200 and the serving line (if the role
   * has one) is out. Fails at once, with the log tail, if the process exits first.
   */
  public void awaitReady(Duration timeout) {
    String what = name + " ready (" + (checkHealth ? healthUri() + " = 200" : "")
        + (checkHealth && readyLine != null ? " and " : "")
        + (readyLine == null ? "" : "'" + readyLine + "' printed") + ")";
    boolean[] healthy = {!checkHealth};
    Poll.until(what, timeout, Duration.ofMillis(100), () -> {
      child.requireAlive("before serving");
      if (!healthy[0]) {
        healthy[0] = healthy();
      }
      return healthy[0] && (readyLine == null || child.output().contains(readyLine));
    }, () -> "(alive=" + child.alive() + ", healthy=" + healthy[0] + ")\n" + child.logTail(60));
  }

  /** Waits (bounded) for /health = 200 only, whatever the role; fails fast if the process exits. */
  public void awaitHealthy(Duration timeout) {
    Poll.until(name + " answers 200 on " + healthUri(), timeout, Duration.ofMillis(200), () -> {
      child.requireAlive("before serving");
      return healthy();
    }, () -> "(alive=" + child.alive() + ")\n" + child.logTail(60));
  }

  /**
   * After {@link #kill9()} or {@link #stop()}: the same command again (same data directory and
   * ports), waiting until ready. A port the old process held may linger a moment: a bind failure
   * is retried (at most five times, a second apart).
   */
  public ArborServer restart(Duration timeout) {
    for (int attempt = 0; ; attempt++) {
      relaunch();
      try {
        awaitReady(timeout);
        return this;
      } catch (HarnessException e) {
        boolean retry = attempt < 4 && !child.alive() && child.bindFailed();
        if (!retry) {
          child.destroy();
          throw e;
        }
        Poll.sleep(Duration.ofSeconds(1));
      }
    }
  }

  /** As {@link #restart(Duration)} without waiting (the caller decides what "ready" means). */
  public ArborServer relaunch() {
    if (child.alive()) {
      throw new IllegalStateException(name + " is still running (pid " + child.pid() + ")");
    }
    launchProcess();
    return this;
  }

  /** SIGKILL: no shutdown hook runs (a data node's registration stays until its TTL expires). */
  public void kill9() {
    long pid = child.pid();
    child.kill9();
    events.accept("killed -9 " + name + " pid=" + pid);
  }

  /**
   * SIGTERM and waits up to {@link #STOP_TIMEOUT}; fails (after a SIGKILL) with the log tail when
   * it did not exit in time. Returns the exit code.
   */
  public int stop() {
    int code = child.stop(STOP_TIMEOUT);
    events.accept("stopped " + name + " pid=" + child.pid() + " exit=" + code);
    return code;
  }

  /** SIGTERM without waiting (stopping several in parallel; then {@link #stop()} each). */
  public void terminate() {
    child.terminate();
  }

  /** SIGKILL if still running, without checks. */
  public void destroy() {
    child.destroy();
  }

  /** A graceful stop that never throws: SIGTERM, SIGKILL after {@link #STOP_TIMEOUT}. */
  @Override
  public void close() {
    try {
      if (child.alive()) {
        stop();
      }
    } catch (HarnessException e) {
      // already SIGKILLed by stop(); clean-up goes on
    }
  }

  // ---------------------------------------------------------------------------------------------
  // HTTP
  // ---------------------------------------------------------------------------------------------

  private URI healthUri() {
    return URI.create(httpBase() + "/health");
  }

  private String httpBase() {
    return (httpsClient == null ? "http" : "https") + "://127.0.0.1:" + httpPort;
  }

  private HttpClient http() {
    return httpsClient == null ? PLAIN_HTTP : httpsClient;
  }

  /** True if {@code GET /health} answers 200 right now. */
  public boolean healthy() {
    try {
      HttpResponse<String> r = http().send(HttpRequest.newBuilder(healthUri())
          .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The text of {@code GET /metrics} (Prometheus format). */
  public String metricsText() throws IOException, InterruptedException {
    HttpResponse<String> r = http().send(HttpRequest.newBuilder(URI.create(httpBase() + "/metrics"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("/metrics of " + name + " answered " + r.statusCode());
    }
    return r.body();
  }

  /**
   * The {@code /metrics} samples whose line matches {@code sample} (group 1 the name, group 3 the
   * value), labels summed away.
   */
  public Map<String, Double> metrics(Pattern sample) throws IOException, InterruptedException {
    Map<String, Double> out = new LinkedHashMap<>();
    for (String line : metricsText().lines().toList()) {
      Matcher m = sample.matcher(line);
      if (m.matches()) {
        out.merge(m.group(1), Double.parseDouble(m.group(3)), Double::sum);
      }
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Accessors
  // ---------------------------------------------------------------------------------------------

  public String name() {
    return name;
  }

  /** The node id of a data node; null for other roles. */
  public String nodeId() {
    return nodeId;
  }

  public Path dataDir() {
    return dataDir;
  }

  public int grpcPort() {
    return grpcPort;
  }

  public int httpPort() {
    return httpPort;
  }

  /** {@code 127.0.0.1:<grpc port>}: a liaison's public API, a data node's admin listener. */
  public String grpcTarget() {
    return "127.0.0.1:" + grpcPort;
  }

  /**
   * {@code 127.0.0.1:<internal port>} of a data node: what peers and liaisons call ({@code
   * DataNodeService}, repair, gossip). A build from before the listener split serves it on its
   * one gRPC port.
   */
  public String internalTarget() {
    if (nodeId == null) {
      throw new IllegalStateException(name + " is not a data node");
    }
    return internalPort < 0 ? grpcTarget() : "127.0.0.1:" + internalPort;
  }

  /** The arguments after {@code -jar arbor.jar} (or the main class). */
  public List<String> args() {
    return args;
  }

  /** The whole command line. */
  public List<String> command() {
    return child.command();
  }

  public Path log() {
    return child.log();
  }

  /** The current launch's process. */
  public Process process() {
    return child.process();
  }

  public boolean alive() {
    return child.alive();
  }

  public long pid() {
    return child.pid();
  }

  /** What the current launch wrote so far (stdout + stderr). */
  public String output() {
    return child.output();
  }

  /** The last {@code lines} lines of the current launch's output, framed. */
  public String logTail(int lines) {
    return child.logTail(lines);
  }

  /** See {@link ChildProcess#awaitOutput}. */
  public void awaitOutput(String text, Duration timeout) {
    child.awaitOutput(text, timeout);
  }

  /** Waits (bounded) for the process to exit by itself; returns whether it did. */
  public boolean waitFor(Duration timeout) {
    return child.waitFor(timeout);
  }

  /** {@code kill -<signal>} (STOP, CONT: a node that stops answering without closing connections). */
  public void signal(String signal) {
    child.signal(signal);
  }

  @Override
  public String toString() {
    return "ArborServer[" + name + " pid=" + pid() + " grpc=" + grpcPort + "]";
  }
}
