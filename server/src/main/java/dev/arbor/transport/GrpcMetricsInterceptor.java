package dev.arbor.transport;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Times every gRPC call: {@code arbor_grpc_server_seconds{method, code}} (count, sum, max and
 * histogram buckets from 250 µs to 10 s).
 */
public final class GrpcMetricsInterceptor implements ServerInterceptor {
  /** Histogram buckets: a few per decade from 250 µs to 10 s keep the scrape small. */
  private static final java.time.Duration[] SLO_BUCKETS = java.util.stream.Stream.of(
          "PT0.00025S", "PT0.0005S", "PT0.001S", "PT0.002S", "PT0.005S", "PT0.01S", "PT0.025S",
          "PT0.05S", "PT0.1S", "PT0.25S", "PT0.5S", "PT1S", "PT2.5S", "PT10S")
      .map(java.time.Duration::parse)
      .toArray(java.time.Duration[]::new);

  private final MeterRegistry registry;

  public GrpcMetricsInterceptor(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    long start = System.nanoTime();
    String method = call.getMethodDescriptor().getFullMethodName();
    ServerCall<Q, R> timed = new SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        Timer.builder("arbor.grpc.server")
            .description("gRPC calls served")
            .tag("method", method)
            .tag("code", status.getCode().name())
            .serviceLevelObjectives(SLO_BUCKETS)
            .register(registry)
            .record(System.nanoTime() - start, java.util.concurrent.TimeUnit.NANOSECONDS);
        super.close(status, trailers);
      }
    };
    return next.startCall(timed, headers);
  }
}
