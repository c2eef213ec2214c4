package dev.arbor.transport;

import dev.arbor.api.banyandb.common.v1.APIVersion;
import dev.arbor.api.banyandb.common.v1.GetAPIVersionRequest;
import dev.arbor.api.banyandb.common.v1.GetAPIVersionResponse;
import dev.arbor.api.banyandb.common.v1.ServiceGrpc;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ClientInterceptors;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.ForwardingClientCallListener.SimpleForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLSession;

/**
 * A real gRPC server built by {@link GrpcServers} on loopback with the given TLS material, serving
 * {@code GetAPIVersion}, that remembers the TLS session of the last call it served; and calls to it
 * that return the client's TLS session.
 */
final class TlsProbeServer implements AutoCloseable {
  private final Server server;
  private final AtomicReference<SSLSession> lastServerSession = new AtomicReference<>();

  TlsProbeServer(TlsMaterial tls) throws IOException {
    ServerInterceptor capture = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        lastServerSession.set(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
        return next.startCall(call, headers);
      }
    };
    ServiceGrpc.ServiceImplBase version = new ServiceGrpc.ServiceImplBase() {
      @Override
      public void getAPIVersion(GetAPIVersionRequest r, StreamObserver<GetAPIVersionResponse> out) {
        out.onNext(GetAPIVersionResponse.newBuilder().setVersion(APIVersion.newBuilder().setVersion("probe")).build());
        out.onCompleted();
      }
    };
    server = GrpcServers.start("127.0.0.1", 0, List.of(version), new SimpleMeterRegistry(), GrpcServerLimits.DEFAULTS,
        new ServerSecurity(tls, null, null, HttpAuth.NONE), List.of(capture));
  }

  int port() {
    return server.getPort();
  }

  SSLSession lastServerSession() {
    return lastServerSession.get();
  }

  /**
   * Calls {@code GetAPIVersion} through a channel of {@code channels} to {@code host}, returning
   * the client's TLS session.
   *
   * @throws io.grpc.StatusRuntimeException the call failed (a refused handshake: UNAVAILABLE)
   */
  SSLSession call(ChannelFactory channels, String host) throws InterruptedException {
    ManagedChannel ch = channels.open(host + ":" + port(), MessageLimits.CLIENT_MAX_INBOUND_BYTES);
    try {
      AtomicReference<SSLSession> session = new AtomicReference<>();
      Channel capturing = ClientInterceptors.intercept(ch, new ClientInterceptor() {
        @Override
        public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
          return new SimpleForwardingClientCall<>(next.newCall(method, options)) {
            @Override
            public void start(Listener<R> listener, Metadata headers) {
              ClientCall<Q, R> call = this;
              super.start(new SimpleForwardingClientCallListener<>(listener) {
                @Override
                public void onHeaders(Metadata h) {
                  session.set(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
                  super.onHeaders(h);
                }
              }, headers);
            }
          };
        }
      });
      ServiceGrpc.newBlockingStub(capturing).withDeadlineAfter(10, TimeUnit.SECONDS)
          .getAPIVersion(GetAPIVersionRequest.getDefaultInstance());
      return session.get();
    } finally {
      ch.shutdownNow();
      ch.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
  }
}
