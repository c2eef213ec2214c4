package dev.arbor.server;

import dev.arbor.observability.HttpEndpoints;
import dev.arbor.transport.GrpcServerLimits;
import dev.arbor.transport.GrpcServers;
import dev.arbor.transport.ServerSecurity;
import io.grpc.BindableService;
import io.grpc.Server;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.BindException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The network side of a node: a gRPC server (every call timed) and the HTTP port with
 * {@code /health} (200 while serving) and {@code /metrics}.
 *
 * <p>Public so that the benchmark's no-storage "ceiling" server ({@code arbor-bench api
 * --ceiling}) is built by this very code, with the same Netty settings, interceptors and limits
 * as a real node: its figure is then the cost of the gRPC layer alone.
 */
public final class ServingEndpoints implements AutoCloseable {
  private final Server grpc;
  private final HttpEndpoints http;
  private final ServerSecurity security;
  private volatile boolean serving;
  /** What makes this node unable to do its job though it runs (storage failures); empty when fine. */
  private volatile java.util.function.Supplier<List<String>> problems = List::of;

  private ServingEndpoints(Server grpc, HttpEndpoints http, ServerSecurity security) {
    this.grpc = grpc;
    this.http = http;
    this.security = security;
  }

  /** A metrics registry with the JVM's meters bound. */
  public static PrometheusMeterRegistry newRegistry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    return registry;
  }

  /** Binds both ports; {@code /health} answers 503 until {@link #markServing}. */
  static ServingEndpoints start(String host, int grpcPort, int httpPort, List<BindableService> services,
      PrometheusMeterRegistry registry) throws IOException {
    return start(host, grpcPort, httpPort, services, registry, GrpcServerLimits.DEFAULTS);
  }

  /** As above, with the server's concurrency caps, keepalive and connection age. */
  public static ServingEndpoints start(String host, int grpcPort, int httpPort, List<BindableService> services,
      PrometheusMeterRegistry registry, GrpcServerLimits limits) throws IOException {
    return start(host, grpcPort, httpPort, services, registry, limits, ServerSecurity.NONE);
  }

  /**
   * As above, both ports secured by {@code security} (TLS, users and roles); the endpoints own it
   * from here on and close it with themselves.
   */
  public static ServingEndpoints start(String host, int grpcPort, int httpPort, List<BindableService> services,
      PrometheusMeterRegistry registry, GrpcServerLimits limits, ServerSecurity security) throws IOException {
    Server grpc;
    try {
      grpc = GrpcServers.start(host, grpcPort, services, registry, limits, security);
    } catch (IOException e) {
      security.close();
      throw bindFailure("gRPC", host, grpcPort, e);
    }
    ServingEndpoints[] self = new ServingEndpoints[1];
    HttpEndpoints http;
    try {
      http = new HttpEndpoints(host, httpPort, security, registry, () -> self[0] != null && self[0].serving,
          () -> self[0] == null ? List.of() : self[0].problems.get());
    } catch (IOException e) {
      grpc.shutdownNow();
      security.close();
      throw bindFailure("HTTP", host, httpPort, e);
    }
    self[0] = new ServingEndpoints(grpc, http, security);
    return self[0];
  }

  private static IOException bindFailure(String what, String host, int port, IOException e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    String why = root instanceof BindException ? "address already in use" : String.valueOf(root.getMessage());
    return new IOException("cannot listen for " + what + " on " + host + ":" + port + ": " + why, e);
  }

  /** Adds a JSON route to the HTTP port (see {@link HttpEndpoints#addJsonRoute}). */
  void addJsonRoute(String path, java.util.function.Function<java.util.Map<String, String>, String> handler) {
    http.addJsonRoute(path, handler);
  }

  public void markServing() {
    serving = true;
  }

  /** What {@code /health} reports as failures (503 with the reasons) while the node serves. */
  void healthProblems(java.util.function.Supplier<List<String>> check) {
    problems = check;
  }

  public int grpcPort() {
    return grpc.getPort();
  }

  public int httpPort() {
    return http.port();
  }

  public void awaitTermination() throws InterruptedException {
    grpc.awaitTermination();
  }

  /** Stops accepting calls and drains in-flight ones (bounded), then closes HTTP. */
  @Override
  public void close() {
    serving = false;
    grpc.shutdown();
    try {
      if (!grpc.awaitTermination(10, TimeUnit.SECONDS)) {
        grpc.shutdownNow();
        grpc.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      grpc.shutdownNow();
      Thread.currentThread().interrupt();
    }
    http.close();
    security.close();
  }
}
