package dev.arbor.bench.cluster;

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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One {@code arbor} role ({@code data} or {@code liaison}) run as a child JVM from the shaded
 * server jar on fixed loopback ports, its output appended to {@code <name>.log}. Ready when
 * {@code GET /health} answers 200 and the role printed its ready line (a data node prints it after
 * registering in etcd). It can be SIGKILLed and started again on the same data directory and
 * ports (a data node keeps its registration meanwhile when its {@code --node-ttl} is long).
 */
public final class ArborNode implements AutoCloseable {
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  static {
    Runtime.getRuntime().addShutdownHook(
        new Thread(() -> LIVE.forEach(Process::destroyForcibly), "arbor-bench-reaper"));
  }

  private final String name;
  private final String nodeId;
  private final Path dataDir;
  private final List<String> command;
  private final int grpcPort;
  private final int httpPort;
  private final Path log;
  private final String readyLine;
  /** Null: plaintext HTTP; otherwise the HTTP port serves HTTPS with a certificate of this CA. */
  private final BenchPki tls;
  private Process process;
  private long logOffset;
  private int starts;

  private ArborNode(String name, String nodeId, Path dataDir, List<String> command, int grpcPort,
      int httpPort, Path log, String readyLine, BenchPki tls) {
    this.tls = tls;
    this.name = name;
    this.nodeId = nodeId;
    this.dataDir = dataDir;
    this.command = List.copyOf(command);
    this.grpcPort = grpcPort;
    this.httpPort = httpPort;
    this.log = log;
    this.readyLine = readyLine;
  }

  /** Starts {@code arbor data} (retrying with new ports when a picked port was taken meanwhile). */
  public static ArborNode startData(Path jar, List<String> jvmOpts, String nodeId, Path dataDir,
      String metadata, String nodeTtl, List<String> extraArgs, Path logDir, Duration timeout)
      throws IOException {
    return startData(jar, jvmOpts, nodeId, dataDir, metadata, nodeTtl, extraArgs, logDir, null,
        timeout);
  }

  /**
   * As above; {@code tls} non-null: {@code extraArgs} give the node TLS on its admin and HTTP
   * ports with a certificate of that CA, so readiness is checked over HTTPS trusting it.
   */
  public static ArborNode startData(Path jar, List<String> jvmOpts, String nodeId, Path dataDir,
      String metadata, String nodeTtl, List<String> extraArgs, Path logDir, BenchPki tls,
      Duration timeout) throws IOException {
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int[] ports = freePorts(2);
      List<String> args = new ArrayList<>(List.of("data", "--node-id", nodeId,
          "--data-dir", dataDir.toAbsolutePath().toString(),
          "--grpc-host", "127.0.0.1", "--grpc-port", Integer.toString(ports[0]),
          "--http-port", Integer.toString(ports[1])));
      if (hasInternalListener(jar)) {
        // Loopback: plaintext between the benchmark's nodes is allowed there.
        args.addAll(List.of("--internal-host", "127.0.0.1", "--internal-port", Integer.toString(freePorts(1)[0])));
      }
      args.addAll(List.of("--metadata", metadata, "--node-ttl", nodeTtl));
      args.addAll(extraArgs);
      ArborNode n = new ArborNode("data-" + nodeId, nodeId, dataDir, command(jar, jvmOpts, args),
          ports[0], ports[1], logDir.resolve("data-" + nodeId + ".log"),
          "Arbor data node " + nodeId + " serving", tls);
      try {
        n.launchAndAwait(timeout);
        return n;
      } catch (IOException e) {
        n.close();
        last = e;
        if (!n.bindFailed()) {
          throw e;
        }
      }
    }
    throw last;
  }

  /** Starts {@code arbor liaison} (retrying with new ports when a picked port was taken). */
  public static ArborNode startLiaison(Path jar, List<String> jvmOpts, String metadata, String nodeTtl,
      Path logDir, Duration timeout) throws IOException {
    return startLiaison(jar, jvmOpts, metadata, nodeTtl, List.of(), logDir, timeout);
  }

  /** As above, with {@code extraArgs} after the role's own (e.g. {@code --write-consistency}). */
  public static ArborNode startLiaison(Path jar, List<String> jvmOpts, String metadata, String nodeTtl,
      List<String> extraArgs, Path logDir, Duration timeout) throws IOException {
    return startLiaison(jar, jvmOpts, metadata, nodeTtl, extraArgs, logDir, null, timeout);
  }

  /** As above; {@code tls} as for {@link #startData} (the liaison's public ports). */
  public static ArborNode startLiaison(Path jar, List<String> jvmOpts, String metadata, String nodeTtl,
      List<String> extraArgs, Path logDir, BenchPki tls, Duration timeout) throws IOException {
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int[] ports = freePorts(2);
      List<String> args = new ArrayList<>(List.of("liaison", "--grpc-host", "127.0.0.1",
          "--grpc-port", Integer.toString(ports[0]), "--http-port", Integer.toString(ports[1]),
          "--metadata", metadata, "--node-ttl", nodeTtl));
      args.addAll(extraArgs);
      ArborNode n = new ArborNode("liaison", null, null, command(jar, jvmOpts, args),
          ports[0], ports[1], logDir.resolve("liaison.log"), "Arbor liaison serving", tls);
      try {
        n.launchAndAwait(timeout);
        return n;
      } catch (IOException e) {
        n.close();
        last = e;
        if (!n.bindFailed()) {
          throw e;
        }
      }
    }
    throw last;
  }

  private static List<String> command(Path jar, List<String> jvmOpts, List<String> args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOpts);
    cmd.add("-jar");
    cmd.add(jar.toAbsolutePath().toString());
    cmd.addAll(args);
    return cmd;
  }

  private void launchAndAwait(Duration timeout) throws IOException {
    logOffset = Files.exists(log) ? Files.size(log) : 0;
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .directory(log.getParent().toFile());
    process = pb.start();
    starts++;
    reapOnExit(process);
    awaitReady(timeout);
  }

  public static void reapOnExit(Process p) {
    LIVE.add(p);
    p.onExit().thenRun(() -> LIVE.remove(p));
  }

  private void awaitReady(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    URI health = URI.create((tls == null ? "http" : "https") + "://127.0.0.1:" + httpPort + "/health");
    HttpClient http = tls == null ? HTTP : tls.httpClient(Duration.ofSeconds(1));
    boolean healthy = false;
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException(name + " exited with code " + process.exitValue()
            + " before serving; log " + log + ":\n" + logTail(30));
      }
      if (!healthy) {
        try {
          HttpResponse<String> r = http.send(HttpRequest.newBuilder(health)
              .timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
          healthy = r.statusCode() == 200;
        } catch (IOException e) {
          // not yet
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted", e);
        }
      }
      if (healthy && outputSinceLaunch().contains(readyLine)) {
        return;
      }
      try {
        TimeUnit.MILLISECONDS.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted", e);
      }
    }
    throw new IOException(name + " not ready within " + timeout.toSeconds() + " s (healthy="
        + healthy + "); log " + log + ":\n" + logTail(30));
  }

  private boolean bindFailed() {
    String out = outputSinceLaunch();
    return out.contains("Address already in use") || out.contains("BindException");
  }

  /** SIGKILL: no shutdown hook runs, so the node's etcd lease is not revoked (it keeps its shards). */
  public void kill9() {
    if (process == null || !process.isAlive()) {
      return;
    }
    process.destroyForcibly();
    try {
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        throw new IllegalStateException(name + " (pid " + process.pid() + ") survived SIGKILL");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Starts the same command again (same data directory and ports) and waits until ready. */
  public void restart(Duration timeout) throws IOException {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(name + " still runs (pid " + process.pid() + ")");
    }
    for (int attempt = 0; ; attempt++) {
      try {
        launchAndAwait(timeout);
        return;
      } catch (IOException e) {
        if (attempt >= 4 || process.isAlive() || !bindFailed()) {
          throw e;
        }
        try {
          TimeUnit.SECONDS.sleep(1); // the old socket may linger a moment
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  public boolean alive() {
    return process != null && process.isAlive();
  }

  public long pid() {
    return process == null ? -1 : process.pid();
  }

  public String name() {
    return name;
  }

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

  /** The admin listener of a data node (repair runs, tree builds, traces), or a liaison's public port. */
  public String grpcTarget() {
    return "127.0.0.1:" + grpcPort;
  }

  /**
   * A data node's internal listener (what peers and liaisons call: {@code DataNodeService}); a
   * build from before the listener split serves it on its one gRPC port.
   */
  public String internalTarget() {
    int i = command.indexOf("--internal-port");
    return i < 0 ? grpcTarget() : "127.0.0.1:" + command.get(i + 1);
  }

  /**
   * Whether {@code jar} is a build with a data node's separate internal listener: older builds,
   * measured against newer ones in one run, refuse its flags.
   */
  static boolean hasInternalListener(Path jar) throws IOException {
    try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(jar.toFile())) {
      return z.getEntry("dev/arbor/server/InternalListener.class") != null;
    }
  }

  public Path log() {
    return log;
  }

  public List<String> command() {
    return command;
  }

  public int starts() {
    return starts;
  }

  private String outputSinceLaunch() {
    try {
      byte[] all = Files.readAllBytes(log);
      int from = (int) Math.min(logOffset, all.length);
      return new String(all, from, all.length - from, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  public String logTail(int lines) {
    List<String> all = outputSinceLaunch().lines().toList();
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  /** SIGTERM (a graceful stop; a data node then revokes its registration), SIGKILL after 20 s. */
  @Override
  public void close() {
    if (process == null || !process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  /** Distinct free loopback ports (bound, then released: a small race remains). */
  public static int[] freePorts(int n) {
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
}
