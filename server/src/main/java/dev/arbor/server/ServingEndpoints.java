package dev.arbor.server;

import dev.arbor.http.GatewayRoutes;
import dev.arbor.http.HttpApi;
import dev.arbor.observability.HttpEndpoints;
import dev.arbor.observability.NodeHealth;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The network side of a node: a gRPC server (every call timed) with the standard health service,
 * and the HTTP port with {@code /health} (200 while serving), {@code /api/healthz},
 * {@code /metrics} and, on nodes that serve the public API, BanyanDB's HTTP API.
 *
 * <p>Public so that the benchmark's no-storage "ceiling" server ({@code arbor-bench api
 * --ceiling}) is built by this very code, with the same Netty settings, interceptors and limits
 * as a real node: its figure is then the cost of the gRPC layer alone.
 */
public final class ServingEndpoints implements AutoCloseable {
  /**
   * Largest HTTP API request body: far above a property at the default --max-property-bytes
   * (1 MiB) in JSON, small enough that the API's queue cannot hold gigabytes.
   */
  static final long HTTP_API_MAX_BODY_BYTES = 16L << 20;

  private final Server grpc;
  private final HttpEndpoints http;
  private final ServerSecurity security;
  private final NodeHealth health;
  private volatile HttpApi api;
  private volatile dev.arbor.console.ConsoleHandler console;
  private volatile boolean serving;
  /** What makes this node unable to do its job though it runs (storage failures); empty when fine. */
  private volatile java.util.function.Supplier<List<String>> problems = List::of;
  /** What keeps a running node from taking traffic, beyond {@link #problems} (a liaison without data nodes). */
  private volatile java.util.function.Supplier<List<String>> readiness = List::of;

  private ServingEndpoints(Server grpc, HttpEndpoints http, ServerSecurity security, NodeHealth health) {
    this.grpc = grpc;
    this.http = http;
    this.security = security;
    this.health = health;
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
    ServingEndpoints[] self = new ServingEndpoints[1];
    NodeHealth health = new NodeHealth(() -> self[0] != null && self[0].serving,
        () -> self[0] == null ? List.of() : self[0].problems.get(),
        () -> self[0] == null ? List.of() : self[0].readiness.get());
    List<BindableService> withHealth = new ArrayList<>(services);
    withHealth.add(health.grpcService());
    Server grpc;
    try {
      grpc = GrpcServers.start(host, grpcPort, withHealth, registry, limits, security);
    } catch (IOException e) {
      health.close();
      security.close();
      throw bindFailure("gRPC", host, grpcPort, e);
    }
    HttpEndpoints http;
    try {
      http = new HttpEndpoints(host, httpPort, security, registry, () -> self[0] != null && self[0].serving,
          () -> self[0] == null ? List.of() : self[0].problems.get());
    } catch (IOException e) {
      health.close();
      grpc.shutdownNow();
      security.close();
      throw bindFailure("HTTP", host, httpPort, e);
    }
    http.addHandler("/api/healthz", health.healthzHandler(), true);
    self[0] = new ServingEndpoints(grpc, http, security, health);
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

  /**
   * Serves BanyanDB's HTTP API under {@code /api/} on the HTTP port, each route running through
   * this node's gRPC services and their interceptors (authentication, roles, limits).
   */
  void serveHttpApi() {
    HttpApi a = new HttpApi(grpc.getServices(), GatewayRoutes.BANYANDB, HTTP_API_MAX_BODY_BYTES);
    api = a;
    http.addHandler("/api/", a, false);
  }

  /** The users the ports check credentials against, or null when anyone may call. */
  dev.arbor.transport.UserDirectory users() {
    return security.users();
  }

  /**
   * Serves the web console at {@code /} (every path no other route takes); it checks credentials
   * itself, with roles, whatever {@code --http-auth} says. Closed with these endpoints.
   */
  void serveConsole(dev.arbor.console.ConsoleHandler handler) {
    console = handler;
    http.addHandler("/", handler, false);
  }

  public void markServing() {
    serving = true;
    health.refresh();
  }

  /** What keeps this node from taking traffic though it is healthy: reported by the health service only. */
  void readinessProblems(java.util.function.Supplier<List<String>> check) {
    readiness = check;
    health.refresh();
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
    health.close();
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
    dev.arbor.console.ConsoleHandler c = console;
    if (c != null) {
      c.close();
    }
    HttpApi a = api;
    if (a != null) {
      a.close();
    }
    security.close();
  }
}
