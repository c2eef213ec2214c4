package dev.arbor.transport;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServerStreamTracer;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;

/**
 * Bare plaintext gRPC servers for tests: no limits, authentication, metrics or keepalive policy,
 * messages up to {@link MessageLimits#MAX_MESSAGE_BYTES}. For stand-in peers, which bring their
 * own interceptors (faults, the one under test); a node's listeners use {@link GrpcServers#start}.
 * Test scope, so production code cannot start a server without the node's interceptors.
 */
public final class BareServers {
  private BareServers() {}

  /** @throws IOException the port cannot be bound */
  public static Server start(String host, int port, List<ServerServiceDefinition> services) throws IOException {
    return start(host, port, services, List.of());
  }

  /** As above, with {@code tracers} seeing every stream (tests that count the bytes on the wire). */
  public static Server start(String host, int port, List<ServerServiceDefinition> services,
      List<ServerStreamTracer.Factory> tracers) throws IOException {
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
        .maxInboundMessageSize(MessageLimits.MAX_MESSAGE_BYTES);
    tracers.forEach(builder::addStreamTracerFactory);
    services.forEach(builder::addService);
    return builder.build().start();
  }

  /** As above. */
  public static Server start(String host, int port, ServerServiceDefinition... services) throws IOException {
    return start(host, port, List.of(services));
  }

  /** As above, for services without interceptors. */
  public static Server start(String host, int port, BindableService... services) throws IOException {
    return start(host, port, Arrays.stream(services).map(BindableService::bindService).toList());
  }
}
