package dev.arbor.transport;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The one place gRPC servers are built: limits, keepalive, message size, TLS and interceptors. */
public final class GrpcServers {
  private GrpcServers() {}

  /**
   * Builds and starts a server for {@code services}: every call is timed into {@code registry},
   * authenticated when {@code security} has users, capped by {@code limits}, and answered with a
   * bounded description.
   *
   * @throws IOException the port cannot be bound
   */
  public static Server start(String host, int port, List<BindableService> services, MeterRegistry registry,
      GrpcServerLimits limits, ServerSecurity security) throws IOException {
    return start(host, port, services, registry, limits, security, List.of());
  }

  /**
   * As above, {@code admission} run after authentication and before the call takes a slot (the
   * internal listener's member check).
   */
  public static Server start(String host, int port, List<BindableService> services, MeterRegistry registry,
      GrpcServerLimits limits, ServerSecurity security, List<ServerInterceptor> admission) throws IOException {
    GrpcMetricsInterceptor metrics = new GrpcMetricsInterceptor(registry);
    CallLimiter limiter = new CallLimiter(limits.maxConcurrentCalls());
    // A second server of the process (a data node's admin listener, started after its internal
    // one) keeps its limits unreported: the meters describe the process's main listener.
    boolean first = registry.find("arbor.grpc.calls.in.flight").meter() == null;
    if (first) {
      FunctionCounter.builder("arbor.grpc.calls.refused", limiter, CallLimiter::refused)
          .description("calls answered RESOURCE_EXHAUSTED because --max-concurrent-calls were being handled")
          .register(registry);
      Gauge.builder("arbor.grpc.calls.in.flight", limiter, CallLimiter::inFlight)
          .description("calls being handled now").register(registry);
    }
    if (security.users() != null) {
      // Refusals on this gRPC port and its HTTP port alike (they share the users).
      security.users().failures().register(registry);
    }
    NettyServerBuilder builder = NettyServerBuilder
        .forAddress(new InetSocketAddress(host, port), security.grpcCredentials())
        .maxInboundMessageSize(MessageLimits.MAX_MESSAGE_BYTES)
        .maxConcurrentCallsPerConnection(limits.maxCallsPerConnection())
        .keepAliveTime(limits.keepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
        .keepAliveTimeout(GrpcServerLimits.KEEPALIVE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .maxConnectionAge(limits.maxConnectionAge().toMillis(), TimeUnit.MILLISECONDS)
        .maxConnectionAgeGrace(GrpcServerLimits.MAX_CONNECTION_AGE_GRACE.toMillis(), TimeUnit.MILLISECONDS);
    // The last interceptor runs first: every status (a refusal's too) leaves with a bounded
    // description, every call is timed and counted by code, unauthenticated calls are refused
    // before they take one of the limiter's slots.
    List<ServerInterceptor> chain = new ArrayList<>();
    if (limits.maxQueuedReplyBytes() > 0) {
      // Innermost: it sees the handler's replies before the others see the call's end.
      ReplyBudget replies = new ReplyBudget(limits.maxQueuedReplyBytes());
      if (registry.find("arbor.grpc.replies.queued.bytes").meter() == null) {
        FunctionCounter.builder("arbor.grpc.replies.refused", replies, ReplyBudget::refused)
            .description("calls answered RESOURCE_EXHAUSTED because --max-queued-reply-bytes of replies were waiting"
                + " for their clients").register(registry);
        Gauge.builder("arbor.grpc.replies.queued.bytes", replies, ReplyBudget::queuedBytes)
            .description("reply bytes waiting for their clients to read them").register(registry);
      }
      chain.add(replies);
    }
    chain.add(limiter);
    chain.addAll(admission);
    chain.addAll(security.interceptors());
    chain.add(metrics);
    chain.add(new BoundedDescriptions());
    ServerInterceptor[] interceptors = chain.toArray(ServerInterceptor[]::new);
    services.forEach(s -> builder.addService(ServerInterceptors.intercept(s, interceptors)));
    return builder.build().start();
  }
}
