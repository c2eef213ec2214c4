package dev.arbor.metadata.etcd;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real single-member etcd for tests: the {@code etcd} binary (Debian {@code etcd-server}) on
 * free loopback client and peer ports with its data in a directory the test owns. Can be stopped
 * (SIGTERM, then SIGKILL) or killed and started again on the same directory and ports. A missing
 * binary fails the test: it never skips.
 *
 * <p>Optionally serves clients over TLS ({@link Tls}), requiring client certificates when given a
 * client CA. Health is polled on a separate plaintext metrics listener, so the check needs no
 * certificate whatever the client side requires.
 */
public final class EtcdProcess implements AutoCloseable {
  static final String MISSING =
      "etcd binary not found: install it with apt-get install -y etcd-server";

  private final Path binary;
  private final Path dataDir;
  private final Path logFile;
  private final int clientPort;
  private final int peerPort;
  private final int metricsPort;
  private final Tls tls;
  private Process process;

  /**
   * Serve clients over TLS with this certificate and key; with a {@code clientCaFile}, etcd runs
   * with {@code --client-cert-auth} and accepts only clients whose certificate that CA signed.
   */
  public record Tls(Path certFile, Path keyFile, Path clientCaFile) {}

  private EtcdProcess(Path binary, Path dir, int clientPort, int peerPort, int metricsPort, Tls tls) {
    this.binary = binary;
    this.metricsPort = metricsPort;
    this.tls = tls;
    this.dataDir = dir.resolve("etcd-data");
    this.logFile = dir.resolve("etcd.log");
    this.clientPort = clientPort;
    this.peerPort = peerPort;
  }

  /** Starts etcd with its data and log under {@code dir} and waits until it reports healthy. */
  public static EtcdProcess start(Path dir) throws IOException {
    return start(dir, null);
  }

  /** Like {@link #start(Path)}, serving clients over TLS when {@code tls} is not null. */
  public static EtcdProcess start(Path dir, Tls tls) throws IOException {
    EtcdProcess p = new EtcdProcess(findBinary(), dir, freePort(), freePort(), freePort(), tls);
    p.start();
    return p;
  }

  static Path findBinary() {
    List<Path> candidates = new ArrayList<>();
    String env = System.getenv("ETCD_BIN");
    if (env != null && !env.isBlank()) {
      candidates.add(Path.of(env));
    }
    String path = System.getenv("PATH");
    if (path != null) {
      for (String d : path.split(java.io.File.pathSeparator)) {
        if (!d.isEmpty()) {
          candidates.add(Path.of(d, "etcd"));
        }
      }
    }
    candidates.add(Path.of("/usr/bin/etcd"));
    candidates.add(Path.of("/usr/local/bin/etcd"));
    for (Path c : candidates) {
      if (Files.isRegularFile(c) && Files.isExecutable(c)) {
        return c;
      }
    }
    return fail(MISSING);
  }

  /** Starts (or restarts, on the same directory and ports) and waits for health. */
  public synchronized void start() throws IOException {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException("etcd already running, pid " + process.pid());
    }
    Files.createDirectories(dataDir);
    String client = clientUri().toString();
    String peer = "http://127.0.0.1:" + peerPort;
    String metrics = "http://127.0.0.1:" + metricsPort;
    List<String> cmd =
        new ArrayList<>(List.of(
            binary.toString(),
            "--name", "arbor-test",
            "--data-dir", dataDir.toString(),
            "--listen-client-urls", client,
            "--advertise-client-urls", client,
            "--listen-peer-urls", peer,
            "--initial-advertise-peer-urls", peer,
            "--initial-cluster", "arbor-test=" + peer,
            "--initial-cluster-state", "new",
            "--initial-cluster-token", "arbor-test-" + clientPort,
            "--heartbeat-interval", "50",
            "--election-timeout", "500",
            "--logger", "zap",
            "--log-level", "warn",
            "--listen-metrics-urls", metrics));
    if (tls != null) {
      cmd.addAll(List.of("--cert-file", tls.certFile().toString(), "--key-file", tls.keyFile().toString()));
      if (tls.clientCaFile() != null) {
        cmd.addAll(List.of("--client-cert-auth", "--trusted-ca-file", tls.clientCaFile().toString()));
      }
    }
    process =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
            .start();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    HttpRequest health =
        HttpRequest.newBuilder(URI.create(metrics + "/health")).timeout(Duration.ofSeconds(1)).build();
    Process started = process;
    await("etcd on " + client + " healthy (log: " + logFile + ")")
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(50))
        .ignoreExceptions()
        .until(
            () -> {
              if (!started.isAlive()) {
                throw new AssertionError(
                    "etcd exited with " + started.exitValue() + ": " + tail());
              }
              HttpResponse<String> r = http.send(health, HttpResponse.BodyHandlers.ofString());
              return r.statusCode() == 200 && r.body().contains("\"health\":\"true\"");
            });
  }

  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  public synchronized void stop() {
    if (process == null) {
      return;
    }
    ProcessHandle h = process.toHandle();
    h.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        h.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      h.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    process = null;
  }

  /** Copies etcd's data directory to {@code target} (a backup); etcd must be stopped. */
  public synchronized void copyDataTo(Path target) throws IOException {
    requireStopped();
    try (var files = Files.walk(dataDir)) {
      for (Path f : files.toList()) {
        Path t = target.resolve(dataDir.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(t);
        } else {
          Files.copy(f, t);
        }
      }
    }
  }

  /**
   * Replaces etcd's data directory with a copy of {@code backup} (a restore), or with nothing (a
   * new, empty etcd) when null; etcd must be stopped.
   */
  public synchronized void replaceData(Path backup) throws IOException {
    requireStopped();
    try (var files = Files.walk(dataDir)) {
      for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
    if (backup != null) {
      try (var files = Files.walk(backup)) {
        for (Path f : files.toList()) {
          Path t = dataDir.resolve(backup.relativize(f).toString());
          if (Files.isDirectory(f)) {
            Files.createDirectories(t);
          } else {
            Files.copy(f, t);
          }
        }
      }
    }
  }

  private void requireStopped() {
    if (process != null) {
      throw new IllegalStateException("stop etcd first");
    }
  }

  /** SIGKILL at once (a crash). */
  synchronized void kill() {
    if (process == null) {
      return;
    }
    process.toHandle().destroyForcibly();
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process = null;
  }

  synchronized long pid() {
    return process == null ? -1 : process.pid();
  }

  public URI clientUri() {
    return URI.create((tls == null ? "http" : "https") + "://127.0.0.1:" + clientPort);
  }

  public List<URI> endpoints() {
    return List.of(clientUri());
  }

  private String tail() {
    try {
      List<String> lines = Files.readAllLines(logFile);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** A loopback port nothing listens on right now. */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }

  @Override
  public void close() {
    stop();
  }
}
