package dev.arbor.harness;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A real single-member etcd: the {@code etcd} binary ({@code $ETCD_BIN}, the PATH, {@code
 * /usr/bin/etcd}, {@code /usr/local/bin/etcd}) on free loopback client, peer and metrics ports,
 * its data ({@code etcd-data}) and log ({@code etcd.log}) in a directory the caller owns. It can
 * be stopped or killed and started again on the same directory and ports. A missing binary fails
 * with the install command: it never skips.
 *
 * <p>Optionally serves clients over TLS ({@link Tls}). Health is polled on the plaintext metrics
 * listener, so the check needs no certificate whatever the client side requires.
 */
public final class EtcdServer implements AutoCloseable {
  public static final String MISSING =
      "etcd binary not found (set ETCD_BIN or install it: apt-get install -y etcd-server)";
  /** Bound on a start until etcd reports healthy. */
  public static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);

  private final Path dataDir;
  private final int clientPort;
  private final int metricsPort;
  private final Tls tls;
  private final ChildProcess child;

  /**
   * Serve clients over TLS with this certificate and key; with a {@code clientCaFile}, etcd runs
   * with {@code --client-cert-auth} and accepts only clients whose certificate that CA signed.
   */
  public record Tls(Path certFile, Path keyFile, Path clientCaFile) {}

  private EtcdServer(Path binary, Path dir, int[] ports, Tls tls) {
    this.dataDir = dir.resolve("etcd-data");
    this.clientPort = ports[0];
    this.metricsPort = ports[2];
    this.tls = tls;
    String client = clientUri().toString();
    String peer = "http://127.0.0.1:" + ports[1];
    List<String> cmd = new ArrayList<>(List.of(binary.toString(),
        "--name", "arbor",
        "--data-dir", dataDir.toString(),
        "--listen-client-urls", client, "--advertise-client-urls", client,
        "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
        "--initial-cluster", "arbor=" + peer, "--initial-cluster-state", "new",
        "--initial-cluster-token", "arbor-" + clientPort,
        "--heartbeat-interval", "50", "--election-timeout", "500",
        "--logger", "zap", "--log-level", "warn",
        "--listen-metrics-urls", "http://127.0.0.1:" + metricsPort));
    if (tls != null) {
      cmd.addAll(List.of("--cert-file", tls.certFile().toString(), "--key-file", tls.keyFile().toString()));
      if (tls.clientCaFile() != null) {
        cmd.addAll(List.of("--client-cert-auth", "--trusted-ca-file", tls.clientCaFile().toString()));
      }
    }
    this.child = new ChildProcess("etcd", cmd, dir.resolve("etcd.log"), dir);
  }

  /** Starts etcd with its data and log under {@code dir} and waits until it reports healthy. */
  public static EtcdServer start(Path dir) {
    return start(dir, null);
  }

  /**
   * As {@link #start(Path)}, serving clients over TLS when {@code tls} is not null. Starts again
   * on fresh ports (at most three times) when a picked port was taken meanwhile.
   */
  public static EtcdServer start(Path dir, Tls tls) {
    Path binary = findBinary();
    HarnessException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      EtcdServer etcd = new EtcdServer(binary, dir, Ports.free(3), tls);
      try {
        etcd.start();
        return etcd;
      } catch (HarnessException e) {
        etcd.child.destroy();
        last = e;
        if (!etcd.child.bindFailed()) {
          throw e;
        }
        deleteTree(etcd.dataDir); // a member half-created on the taken port
      }
    }
    throw last;
  }

  /** The etcd binary, or a {@link HarnessException} naming the package to install. */
  public static Path findBinary() {
    List<Path> candidates = new ArrayList<>();
    String env = System.getenv("ETCD_BIN");
    if (env != null && !env.isBlank()) {
      candidates.add(Path.of(env));
    }
    String path = System.getenv("PATH");
    if (path != null) {
      for (String d : path.split(File.pathSeparator)) {
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
    throw new HarnessException(MISSING);
  }

  /** Starts (or restarts, on the same directory and ports) and waits until healthy. */
  public synchronized void start() {
    if (child.alive()) {
      throw new IllegalStateException("etcd already running, pid " + child.pid());
    }
    try {
      Files.createDirectories(dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    child.launch();
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/health"))
        .timeout(Duration.ofSeconds(1)).build();
    Poll.until("etcd on " + clientUri() + " healthy", STARTUP_TIMEOUT, Duration.ofMillis(50), () -> {
      child.requireAlive("before reporting healthy");
      HttpResponse<String> r = http.send(health, HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 && r.body().contains("\"health\":\"true\"");
    }, () -> child.logTail(20));
  }

  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  public synchronized void stop() {
    if (!child.alive()) {
      return;
    }
    try {
      child.stop(STOP_TIMEOUT);
    } catch (HarnessException e) {
      // SIGKILLed by stop(): etcd is down either way, which is what the caller asked for
    }
  }

  /** SIGKILL at once (a crash). */
  public synchronized void kill() {
    child.destroy();
  }

  /** Copies etcd's data directory to {@code target} (a backup); etcd must be stopped. */
  public synchronized void copyDataTo(Path target) throws IOException {
    requireStopped();
    copyTree(dataDir, target);
  }

  /**
   * Replaces etcd's data directory with a copy of {@code backup} (a restore), or with nothing (a
   * new, empty etcd) when null; etcd must be stopped.
   */
  public synchronized void replaceData(Path backup) throws IOException {
    requireStopped();
    deleteTree(dataDir);
    if (backup != null) {
      copyTree(backup, dataDir);
    }
  }

  private void requireStopped() {
    if (child.alive()) {
      throw new IllegalStateException("stop etcd first");
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path f : files.toList()) {
        Path t = to.resolve(from.relativize(f).toString());
        if (Files.isDirectory(f)) {
          Files.createDirectories(t);
        } else {
          Files.copy(f, t);
        }
      }
    }
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }

  public synchronized long pid() {
    return child.alive() ? child.pid() : -1;
  }

  public boolean alive() {
    return child.alive();
  }

  public URI clientUri() {
    return URI.create((tls == null ? "http" : "https") + "://127.0.0.1:" + clientPort);
  }

  public List<URI> endpoints() {
    return List.of(clientUri());
  }

  /** {@code etcd://127.0.0.1:PORT}, the form the server's {@code --metadata} takes. */
  public String metadataUri() {
    return "etcd://127.0.0.1:" + clientPort;
  }

  public Path log() {
    return child.log();
  }

  @Override
  public void close() {
    stop();
  }
}
