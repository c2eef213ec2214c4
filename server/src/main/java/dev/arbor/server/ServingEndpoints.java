package dev.arbor.server;

import dev.arbor.runtime.NodeRuntime;
import dev.arbor.http.GatewayRoutes;
import dev.arbor.http.HttpApi;
import dev.arbor.http.HttpApiLimits;
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
  /** How long a graceful close waits for in-flight calls (gRPC and HTTP API) before cutting them. */
  static final java.time.Duration DRAIN = java.time.Duration.ofSeconds(10);

  private final Server grpc;
  private final HttpEndpoints http;
  private final ServerSecurity security;
  private final NodeHealth health;
  private final HttpApiLimits httpApiLimits;
  private volatile HttpApi api;
  private volatile dev.arbor.console.ConsoleHandler console;
  private volatile boolean serving;
  /** What makes this node unable to do its job though it runs (storage failures); empty when fine. */
  private volatile java.util.function.Supplier<List<String>> problems = List::of;
  /** What keeps a running node from taking traffic, beyond {@link #problems} (a liaison without data nodes). */
  private volatile java.util.function.Supplier<List<String>> readiness = List::of;

  private final NodeRuntime runtime;

  private ServingEndpoints(NodeRuntime runtime, Server grpc, HttpEndpoints http, ServerSecurity security,
      NodeHealth health, HttpApiLimits httpApiLimits) {
    this.runtime = runtime;
    this.httpApiLimits = httpApiLimits;
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
    return start(NodeRuntime.system(), host, grpcPort, httpPort, services, registry, limits, security);
  }

  /** As above, every thread (health, HTTP, HTTP API, console) made by the node's runtime. */
  static ServingEndpoints start(NodeRuntime runtime, String host, int grpcPort, int httpPort,
      List<BindableService> services, PrometheusMeterRegistry registry, GrpcServerLimits limits,
      ServerSecurity security) throws IOException {
    ServingEndpoints[] self = new ServingEndpoints[1];
    NodeHealth health = new NodeHealth(runtime, () -> self[0] != null && self[0].serving,
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
      http = new HttpEndpoints(runtime, host, httpPort, security, registry, () -> self[0] != null && self[0].serving,
          () -> self[0] == null ? List.of() : self[0].problems.get());
    } catch (IOException e) {
      health.close();
      grpc.shutdownNow();
      security.close();
      throw bindFailure("HTTP", host, httpPort, e);
    }
    http.addHandler("/api/healthz", health.healthzHandler(), true);
    self[0] = new ServingEndpoints(runtime, grpc, http, security, health, limits.httpApi());
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
    HttpApi a = new HttpApi(runtime, grpc.getServices(), GatewayRoutes.BANYANDB, httpApiLimits);
    api = a;
    http.addHandler("/api/", a, false);
  }

  /** The node's runtime (its clocks, the threads these endpoints started). */
  NodeRuntime runtime() {
    return runtime;
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

  /**
   * Stops accepting calls and drains in-flight ones (bounded), then closes HTTP. The HTTP API
   * stops with the gRPC port: while in-flight calls finish, a new HTTP request is answered 503
   * (its routes run the gRPC methods in-process, past the gRPC server's own refusal).
   */
  @Override
  public void close() {
    serving = false;
    health.close();
    HttpApi a = api;
    if (a != null) {
      a.drain();
    }
    grpc.shutdown();
    long deadline = System.nanoTime() + DRAIN.toNanos();
    try {
      boolean drained = grpc.awaitTermination(DRAIN.toNanos(), TimeUnit.NANOSECONDS);
      if (a != null) {
        drained &= a.awaitDrained(java.time.Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
      }
      if (!drained) {
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
    if (a != null) {
      a.close();
    }
    security.close();
  }
}
