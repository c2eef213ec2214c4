package dev.arbor.transport;

import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admits a call on the internal listener only from a current member of the cluster whose role
 * may make it: the TLS handshake already proved the caller holds a certificate of the cluster CA;
 * this maps the certificate to its node id, asks the registry whether that node is registered now
 * and with which roles, and checks the method against {@link MemberAccess}. A node that left (or
 * was never registered) keeps a valid certificate, so the CA alone is not enough. Refusals are
 * PERMISSION_DENIED and counted in {@code arbor_internal_calls_refused_total{reason}}.
 *
 * <p>An admitted streaming call (a repair session) can outlive its caller's membership; when the
 * registry reports that the node left or lost the role the call needs ({@link #membershipChanged}),
 * the call is closed with PERMISSION_DENIED. Unary calls are short and only checked on admission.
 */
public final class MemberInterceptor implements ServerInterceptor {
  private static final Logger LOG = LoggerFactory.getLogger(MemberInterceptor.class);

  private final Function<String, Optional<Set<String>>> rolesOf;
  private final MemberAccess access;
  private final Counter noCertificate;
  private final Counter unknownMember;
  private final Counter role;
  /** Open streaming calls of members, by node id. */
  private final ConcurrentHashMap<String, Set<EndableCall<?, ?>>> streams = new ConcurrentHashMap<>();

  /**
   * @param rolesOf the roles a node id is registered with now, empty when it is not registered
   *     (a local lookup: runs on every call)
   */
  public MemberInterceptor(Function<String, Optional<Set<String>>> rolesOf, MemberAccess access,
      MeterRegistry registry) {
    this.rolesOf = rolesOf;
    this.access = access;
    this.noCertificate = refused(registry, "no_certificate");
    this.unknownMember = refused(registry, "unknown_member");
    this.role = refused(registry, "role");
    Gauge.builder("arbor.internal.streams.open", this, MemberInterceptor::openStreams)
        .description("streaming calls (repair sessions) of members open on the internal listener")
        .register(registry);
  }

  private static Counter refused(MeterRegistry registry, String reason) {
    return Counter.builder("arbor.internal.calls.refused").tag("reason", reason)
        .description("calls on the internal listener refused: no node certificate, its node is not registered,"
            + " or its node's role may not make the call")
        .register(registry);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    Optional<String> node = peerNode(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
    if (node.isEmpty()) {
      noCertificate.increment();
      return refuse(call, "the internal listener serves cluster members only: present a node certificate"
          + " (subject CN = node id) signed by the cluster CA");
    }
    String id = node.get();
    if (call.getMethodDescriptor().getType() == MethodDescriptor.MethodType.UNARY) {
      Optional<String> refusal = check(id, call.getMethodDescriptor().getFullMethodName(), rolesOf.apply(id));
      return refusal.isPresent() ? refuse(call, refusal.get()) : next.startCall(call, headers);
    }
    // Tracked before the check: a leave reported between the two still finds the call.
    EndableCall<Q, R> stream = new EndableCall<>(call);
    // Added inside compute: an untrack emptying the set removes it atomically with respect to this.
    streams.compute(id, (k, set) -> {
      Set<EndableCall<?, ?>> mine = set == null ? ConcurrentHashMap.newKeySet() : set;
      mine.add(stream);
      return mine;
    });
    Optional<String> refusal = check(id, call.getMethodDescriptor().getFullMethodName(), rolesOf.apply(id));
    if (refusal.isPresent()) {
      untrack(id, stream);
      return refuse(call, refusal.get());
    }
    ServerCall.Listener<Q> delegate;
    try {
      delegate = next.startCall(stream, headers);
    } catch (RuntimeException | Error e) {
      untrack(id, stream);
      throw e;
    }
    return new SimpleForwardingServerCallListener<>(delegate) {
      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          untrack(id, stream);
        }
      }

      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          untrack(id, stream);
        }
      }
    };
  }

  /**
   * The registry reports a change of {@code nodeId}: closes its open streaming calls that its
   * roles now ({@code rolesNow}, empty when it left) no longer allow.
   */
  public void membershipChanged(String nodeId, Optional<Set<String>> rolesNow) {
    Set<EndableCall<?, ?>> open = streams.get(nodeId);
    if (open == null) {
      return;
    }
    for (EndableCall<?, ?> s : open) {
      Optional<String> refusal = check(nodeId, s.getMethodDescriptor().getFullMethodName(), rolesNow);
      if (refusal.isPresent()) {
        LOG.info("closing {} of node '{}': {}", s.getMethodDescriptor().getFullMethodName(), nodeId, refusal.get());
        s.end(Status.PERMISSION_DENIED.withDescription(refusal.get()));
        untrack(nodeId, s);
      }
    }
  }

  /** Streaming calls of members open now. */
  public int openStreams() {
    return streams.values().stream().mapToInt(Set::size).sum();
  }

  private Optional<String> check(String id, String method, Optional<Set<String>> roles) {
    if (roles.isEmpty()) {
      unknownMember.increment();
      return Optional.of("node '" + BoundedDescriptions.bounded(id) + "' is not a registered member of this cluster");
    }
    if (!access.allows(roles.get(), method)) {
      role.increment();
      return Optional.of("node '" + BoundedDescriptions.bounded(id) + "' is registered as " + roles.get()
          + ", and only " + access.rolesAllowed(method) + " may call " + method + " on the internal listener");
    }
    return Optional.empty();
  }

  private void untrack(String nodeId, EndableCall<?, ?> s) {
    streams.computeIfPresent(nodeId, (k, set) -> {
      set.remove(s);
      return set.isEmpty() ? null : set;
    });
  }

  private static Optional<String> peerNode(SSLSession session) {
    if (session == null) {
      return Optional.empty();
    }
    try {
      Certificate[] chain = session.getPeerCertificates();
      if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
        return Optional.empty();
      }
      return NodeIdentity.of(leaf);
    } catch (SSLPeerUnverifiedException e) {
      return Optional.empty();
    }
  }

  private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, String why) {
    call.close(Status.PERMISSION_DENIED.withDescription(why), new Metadata());
    return new ServerCall.Listener<>() {};
  }
}
