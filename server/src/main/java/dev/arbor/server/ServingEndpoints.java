package dev.arbor.server;

import dev.arbor.observability.GrpcMetricsInterceptor;
import dev.arbor.observability.HttpEndpoints;
import dev.arbor.transport.BoundedDescriptions;
import dev.arbor.transport.CallLimiter;
import dev.arbor.transport.GrpcServerLimits;
import dev.arbor.transport.ReplyBudget;
import io.grpc.BindableService;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
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
  private static final int MAX_INBOUND_MESSAGE = 64 << 20;

  private final Server grpc;
  private final HttpEndpoints http;
  private volatile boolean serving;
  /** What makes this node unable to do its job though it runs (storage failures); empty when fine. */
  private volatile java.util.function.Supplier<List<String>> problems = List::of;

  private ServingEndpoints(Server grpc, HttpEndpoints http) {
    this.grpc = grpc;
    this.http = http;
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
    GrpcMetricsInterceptor metrics = new GrpcMetricsInterceptor(registry);
    CallLimiter limiter = new CallLimiter(limits.maxConcurrentCalls());
    FunctionCounter.builder("arbor.grpc.calls.refused", limiter, CallLimiter::refused)
        .description("calls answered RESOURCE_EXHAUSTED because --max-concurrent-calls were being handled")
        .register(registry);
    Gauge.builder("arbor.grpc.calls.in.flight", limiter, CallLimiter::inFlight)
        .description("calls being handled now").register(registry);
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(host, grpcPort))
        .maxInboundMessageSize(MAX_INBOUND_MESSAGE)
        .maxConcurrentCallsPerConnection(limits.maxCallsPerConnection())
        .keepAliveTime(limits.keepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
        .keepAliveTimeout(GrpcServerLimits.KEEPALIVE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .maxConnectionAge(limits.maxConnectionAge().toMillis(), TimeUnit.MILLISECONDS)
        .maxConnectionAgeGrace(GrpcServerLimits.MAX_CONNECTION_AGE_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    // The last interceptor runs first: refused calls are still timed and counted by code, and every
    // status (a refusal's too) leaves with a bounded description.
    BoundedDescriptions descriptions = new BoundedDescriptions();
    List<ServerInterceptor> interceptors = new ArrayList<>();
    if (limits.maxQueuedReplyBytes() > 0) {
      // Innermost: it sees the handler's replies before the others see the call's end.
      ReplyBudget replies = new ReplyBudget(limits.maxQueuedReplyBytes());
      FunctionCounter.builder("arbor.grpc.replies.refused", replies, ReplyBudget::refused)
          .description("calls answered RESOURCE_EXHAUSTED because --max-queued-reply-bytes of replies were waiting"
              + " for their clients").register(registry);
      Gauge.builder("arbor.grpc.replies.queued.bytes", replies, ReplyBudget::queuedBytes)
          .description("reply bytes waiting for their clients to read them").register(registry);
      interceptors.add(replies);
    }
    interceptors.addAll(List.of(limiter, metrics, descriptions));
    services.forEach(s -> builder.addService(ServerInterceptors.intercept(s, interceptors)));
    Server grpc = builder.build();
    try {
      grpc.start();
    } catch (IOException e) {
      throw bindFailure("gRPC", host, grpcPort, e);
    }
    ServingEndpoints[] self = new ServingEndpoints[1];
    HttpEndpoints http;
    try {
      http = new HttpEndpoints(host, httpPort, registry, () -> self[0] != null && self[0].serving,
          () -> self[0] == null ? List.of() : self[0].problems.get());
    } catch (IOException e) {
      grpc.shutdownNow();
      throw bindFailure("HTTP", host, httpPort, e);
    }
    self[0] = new ServingEndpoints(grpc, http);
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
  }
}
