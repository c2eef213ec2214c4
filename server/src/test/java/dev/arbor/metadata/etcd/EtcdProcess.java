package dev.arbor.metadata.etcd;

import dev.arbor.harness.EtcdServer;
import dev.arbor.harness.HarnessException;
import dev.arbor.harness.Ports;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * A real single-member etcd for the server's tests: the shared harness's {@link EtcdServer}
 * (module {@code harness}, which the ITs and benchmarks use too) under the name these tests know.
 * A missing binary fails the test with the install command: it never skips. Harness failures
 * (etcd exited, not healthy in time) become test failures carrying etcd's log tail.
 */
public final class EtcdProcess implements AutoCloseable {
  private final EtcdServer etcd;

  /**
   * Serve clients over TLS with this certificate and key; with a {@code clientCaFile}, etcd runs
   * with {@code --client-cert-auth} and accepts only clients whose certificate that CA signed.
   */
  public record Tls(Path certFile, Path keyFile, Path clientCaFile) {}

  private EtcdProcess(EtcdServer etcd) {
    this.etcd = etcd;
  }

  /** Starts etcd with its data and log under {@code dir} and waits until it reports healthy. */
  public static EtcdProcess start(Path dir) throws IOException {
    return start(dir, null);
  }

  /** Like {@link #start(Path)}, serving clients over TLS when {@code tls} is not null. */
  public static EtcdProcess start(Path dir, Tls tls) throws IOException {
    EtcdServer.Tls t = tls == null ? null : new EtcdServer.Tls(tls.certFile(), tls.keyFile(), tls.clientCaFile());
    return new EtcdProcess(asserting(() -> EtcdServer.start(dir, t)));
  }

  /** Starts again (on the same directory and ports) and waits for health. */
  public void start() {
    asserting(() -> {
      etcd.start();
      return null;
    });
  }

  /** SIGTERM, then SIGKILL if it has not exited within 5 s. */
  public void stop() {
    etcd.stop();
  }

  /** Copies etcd's data directory to {@code target} (a backup); etcd must be stopped. */
  public void copyDataTo(Path target) throws IOException {
    etcd.copyDataTo(target);
  }

  /**
   * Replaces etcd's data directory with a copy of {@code backup} (a restore), or with nothing (a
   * new, empty etcd) when null; etcd must be stopped.
   */
  public void replaceData(Path backup) throws IOException {
    etcd.replaceData(backup);
  }

  /** SIGKILL at once (a crash). */
  void kill() {
    etcd.kill();
  }

  long pid() {
    return etcd.pid();
  }

  public URI clientUri() {
    return etcd.clientUri();
  }

  public List<URI> endpoints() {
    return etcd.endpoints();
  }

  /** A loopback port nothing listens on right now. */
  static int freePort() {
    return Ports.free(1)[0];
  }

  @Override
  public void close() {
    etcd.close();
  }

  private static <T> T asserting(java.util.function.Supplier<T> action) {
    try {
      return action.get();
    } catch (HarnessException e) {
      throw new AssertionError(e.getMessage(), e);
    }
  }
}
