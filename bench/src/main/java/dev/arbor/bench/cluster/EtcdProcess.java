package dev.arbor.bench.cluster;

import java.io.File;
import java.io.IOException;
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
 * A single-member etcd for the benchmark cluster (like the tests' {@code EtcdProcess}): the
 * {@code etcd} binary ({@code $ETCD_BIN}, the PATH, {@code /usr/bin/etcd}) on free loopback
 * client and peer ports, data and log under a directory the benchmark owns.
 */
public final class EtcdProcess implements AutoCloseable {
  private final Process process;
  private final int clientPort;
  private final Path log;

  private EtcdProcess(Process process, int clientPort, Path log) {
    this.process = process;
    this.clientPort = clientPort;
    this.log = log;
  }

  public static EtcdProcess start(Path dir, Duration timeout) throws IOException, InterruptedException {
    Path binary = findBinary();
    Files.createDirectories(dir);
    IOException last = null;
    for (int attempt = 0; attempt < 3; attempt++) {
      int[] ports = ArborNode.freePorts(2);
      String client = "http://127.0.0.1:" + ports[0];
      String peer = "http://127.0.0.1:" + ports[1];
      Path log = dir.resolve("etcd.log");
      List<String> cmd = List.of(binary.toString(),
          "--name", "arbor-bench",
          "--data-dir", dir.resolve("etcd-data-" + attempt).toString(),
          "--listen-client-urls", client, "--advertise-client-urls", client,
          "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
          "--initial-cluster", "arbor-bench=" + peer, "--initial-cluster-state", "new",
          "--initial-cluster-token", "arbor-bench-" + ports[0],
          "--heartbeat-interval", "50", "--election-timeout", "500",
          "--logger", "zap", "--log-level", "warn");
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
      ArborNode.reapOnExit(p);
      EtcdProcess etcd = new EtcdProcess(p, ports[0], log);
      try {
        etcd.awaitHealthy(timeout);
        return etcd;
      } catch (IOException e) {
        etcd.close();
        last = e;
      }
    }
    throw last;
  }

  private void awaitHealthy(Duration timeout) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();
    HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + clientPort + "/health"))
        .timeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IOException("etcd exited with " + process.exitValue() + "; log " + log);
      }
      try {
        HttpResponse<String> r = http.send(health, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200 && r.body().contains("\"health\":\"true\"")) {
          return;
        }
      } catch (IOException e) {
        // not yet
      }
      TimeUnit.MILLISECONDS.sleep(50);
    }
    throw new IOException("etcd not healthy within " + timeout.toSeconds() + " s; log " + log);
  }

  /** {@code etcd://127.0.0.1:PORT}, the form {@code --metadata} takes. */
  public String metadataUri() {
    return "etcd://127.0.0.1:" + clientPort;
  }

  public boolean alive() {
    return process.isAlive();
  }

  public long pid() {
    return process.pid();
  }

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
    throw new IllegalStateException(
        "etcd binary not found (set ETCD_BIN or install it: apt-get install -y etcd-server)");
  }

  @Override
  public void close() {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
