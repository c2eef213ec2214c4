package dev.arbor.transport;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall.SimpleForwardingClientCall;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The one place gRPC channels are built: TLS (or plaintext), the credentials metadata, and the
 * inbound message cap. Composition roots build one from configuration and hand it to whatever
 * talks to other processes; nothing else names a channel builder.
 */
public final class ChannelFactory {
  /** Metadata keys the official BanyanDB client sends its user name and password in. */
  public static final Metadata.Key<String> USERNAME = Metadata.Key.of("username", Metadata.ASCII_STRING_MARSHALLER);
  public static final Metadata.Key<String> PASSWORD = Metadata.Key.of("password", Metadata.ASCII_STRING_MARSHALLER);

  private final ClientSecurity security;
  private final ChannelCredentials credentials;
  private final List<ClientInterceptor> interceptors;
  private final int flowControlWindow;
  /** Builds the channel to a target instead of gRPC's own transport lookup; null: gRPC's. */
  private final java.util.function.Function<String, ManagedChannelBuilder<?>> transport;

  private ChannelFactory(ClientSecurity security) {
    this(security, channelCredentials(security), List.of(), 0, null);
  }

  private ChannelFactory(ChannelCredentials credentials) {
    this(ClientSecurity.PLAINTEXT, credentials, List.of(), 0, null);
  }

  private ChannelFactory(ClientSecurity security, ChannelCredentials credentials, List<ClientInterceptor> interceptors,
      int flowControlWindow, java.util.function.Function<String, ManagedChannelBuilder<?>> transport) {
    this.security = security;
    this.credentials = credentials;
    this.interceptors = List.copyOf(interceptors);
    this.flowControlWindow = flowControlWindow;
    this.transport = transport;
  }

  /**
   * Plaintext channels whose transport {@code transport} builds for each target: the
   * deterministic simulation's network (in-process channels running calls on the caller's
   * thread). Interceptors added with {@link #withInterceptors} still apply.
   */
  public static ChannelFactory over(java.util.function.Function<String, ManagedChannelBuilder<?>> transport) {
    return new ChannelFactory(ClientSecurity.PLAINTEXT, InsecureChannelCredentials.create(), List.of(), 0,
        java.util.Objects.requireNonNull(transport, "transport"));
  }

  /**
   * The same channels with {@code more} client interceptors, which run before this factory's
   * own (a test's per-call deadline or fault injection).
   */
  public ChannelFactory withInterceptors(ClientInterceptor... more) {
    List<ClientInterceptor> all = new ArrayList<>(interceptors);
    all.addAll(List.of(more));
    return new ChannelFactory(security, credentials, all, flowControlWindow, transport);
  }

  /**
   * The same channels with an HTTP/2 flow-control window of {@code bytes} (a client that reads
   * slowly, as the tests of the servers' reply caps need; the default suits every node).
   */
  public ChannelFactory withFlowControlWindow(int bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("flow-control window must be positive: " + bytes);
    }
    return new ChannelFactory(security, credentials, interceptors, bytes, transport);
  }

  /**
   * Channels between the nodes of a cluster: this node's certificate presented, the server's
   * checked against the cluster CA and its host name. Renewed certificates and CAs are used by
   * the next handshake (the material reloads itself), so channels need no rebuilding.
   */
  public static ChannelFactory mutualTls(TlsMaterial material) {
    return new ChannelFactory(material.channelCredentials());
  }

  /** Plaintext channels without credentials. */
  public static ChannelFactory plaintext() {
    return new ChannelFactory(ClientSecurity.PLAINTEXT);
  }

  /**
   * @throws IllegalArgumentException when a CA, certificate or key file cannot be read; the
   *     message names the file
   */
  public static ChannelFactory of(ClientSecurity security) {
    return new ChannelFactory(security);
  }

  /** What users' channels carry; for {@link #mutualTls} channels only the node certificate counts. */
  public ClientSecurity security() {
    return security;
  }

  /** A channel to {@code target} ({@code host:port} or a gRPC target URI). */
  public ManagedChannel open(String target, int maxInboundBytes) {
    return open(target, maxInboundBytes, false);
  }

  /**
   * As above, callbacks running on the transport's own thread (a load driver's channels, whose
   * callbacks only record a time, skip the hand-off to an executor).
   */
  public ManagedChannel openDirect(String target, int maxInboundBytes) {
    return open(target, maxInboundBytes, true);
  }

  private ManagedChannel open(String target, int maxInboundBytes, boolean direct) {
    // Grpc.newChannelBuilder picks the transport on the class path (shaded Netty in the server,
    // plain Netty next to the official client in the integration tests).
    ManagedChannelBuilder<?> b = (transport != null ? transport.apply(target)
        : Grpc.newChannelBuilder(target, credentials)).maxInboundMessageSize(maxInboundBytes);
    if (direct) {
      b.directExecutor();
    }
    if (flowControlWindow > 0) {
      setFlowControlWindow(b, flowControlWindow);
    }
    if (security.credentials() != null) {
      b.intercept(new CredentialsInterceptor(security.credentials()));
    }
    if (!interceptors.isEmpty()) {
      // intercept() runs the last-added first: the caller's interceptors see the call first.
      b.intercept(interceptors);
    }
    return b.build();
  }

  /**
   * The window is a Netty option, and which Netty (shaded in the server, plain next to the
   * official client) depends on the class path: found by name rather than by naming either.
   */
  private static void setFlowControlWindow(ManagedChannelBuilder<?> b, int bytes) {
    try {
      b.getClass().getMethod("flowControlWindow", int.class).invoke(b, bytes);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("the channel transport " + b.getClass().getName()
          + " has no flow-control window to set", e);
    }
  }

  private static ChannelCredentials channelCredentials(ClientSecurity s) {
    if (!s.tls()) {
      return InsecureChannelCredentials.create();
    }
    TlsChannelCredentials.Builder b = TlsChannelCredentials.newBuilder();
    try {
      b.trustManager(s.caFile().toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read the CA file " + s.caFile() + ": " + e.getMessage(), e);
    }
    if (s.certFile() != null) {
      try {
        b.keyManager(s.certFile().toFile(), s.keyFile().toFile());
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read the client certificate " + s.certFile() + " or key "
            + s.keyFile() + ": " + e.getMessage(), e);
      }
    }
    return b.build();
  }

  /** Adds the user name and password to every call, as the official client does. */
  private static final class CredentialsInterceptor implements ClientInterceptor {
    private final Credentials credentials;

    CredentialsInterceptor(Credentials credentials) {
      this.credentials = credentials;
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      return new SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<R> listener, Metadata headers) {
          headers.put(USERNAME, credentials.username());
          headers.put(PASSWORD, credentials.password());
          super.start(listener, headers);
        }
      };
    }
  }
}
