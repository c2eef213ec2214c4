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
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
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
 * <p>An admitted call can outlive its caller's membership: a repair session for minutes, a unary
 * call (a write, a shard query) while its handler runs or while a slow caller is still sending
 * the request. When the registry reports that the node left or lost the role a call needs
 * ({@link #membershipChanged}), every such call of the node is closed with PERMISSION_DENIED and
 * counted in {@code arbor_internal_calls_evicted_total{reason}}, apart from the refusals at
 * admission. The caller hears PERMISSION_DENIED at once; what the handler has already applied
 * stays applied (as for any call whose reply is lost), and whatever it answers afterwards is
 * dropped.
 */
public final class MemberInterceptor implements ServerInterceptor {
  private static final Logger LOG = LoggerFactory.getLogger(MemberInterceptor.class);

  private final Function<String, Optional<Set<String>>> rolesOf;
  private final MemberAccess access;
  private final Counter noCertificate;
  private final Counter unknownMember;
  private final Counter role;
  private final Counter evictedUnknownMember;
  private final Counter evictedRole;
  /** Open calls of members (unary and streaming), by node id. */
  private final ConcurrentHashMap<String, Set<EndableCall<?, ?>>> calls = new ConcurrentHashMap<>();

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
    this.evictedUnknownMember = evicted(registry, "unknown_member");
    this.evictedRole = evicted(registry, "role");
    Gauge.builder("arbor.internal.streams.open", this, MemberInterceptor::openStreams)
        .description("streaming calls (repair sessions) of members open on the internal listener")
        .register(registry);
    Gauge.builder("arbor.internal.calls.open", this, MemberInterceptor::openCalls)
        .description("calls of members open on the internal listener, unary and streaming")
        .register(registry);
  }

  private static Counter refused(MeterRegistry registry, String reason) {
    return Counter.builder("arbor.internal.calls.refused").tag("reason", reason)
        .description("calls on the internal listener refused: no node certificate, its node is not registered,"
            + " or its node's role may not make the call")
        .register(registry);
  }

  private static Counter evicted(MeterRegistry registry, String reason) {
    return Counter.builder("arbor.internal.calls.evicted").tag("reason", reason)
        .description("admitted calls on the internal listener closed while open because their node left the"
            + " registry (unknown_member) or lost the role the call needs (role)")
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
    // Tracked before the check: a leave reported between the two still finds the call.
    EndableCall<Q, R> tracked = new EndableCall<>(call);
    // Added inside compute: an untrack emptying the set removes it atomically with respect to this.
    calls.compute(id, (k, set) -> {
      Set<EndableCall<?, ?>> mine = set == null ? ConcurrentHashMap.newKeySet() : set;
      mine.add(tracked);
      return mine;
    });
    Optional<Refusal> refusal = check(id, call.getMethodDescriptor().getFullMethodName(), rolesOf.apply(id));
    if (refusal.isPresent()) {
      untrack(id, tracked);
      (refusal.get().unknownMember() ? unknownMember : role).increment();
      // Through the tracked call: a leave reported meanwhile may have closed it already.
      return refuse(tracked, refusal.get().why());
    }
    ServerCall.Listener<Q> delegate;
    try {
      delegate = next.startCall(tracked, headers);
    } catch (RuntimeException | Error e) {
      untrack(id, tracked);
      throw e;
    }
    return new SimpleForwardingServerCallListener<>(delegate) {
      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          untrack(id, tracked);
        }
      }

      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          untrack(id, tracked);
        }
      }
    };
  }

  /**
   * The registry reports a change of {@code nodeId}: closes its open calls, unary or streaming,
   * that its roles now ({@code rolesNow}, empty when it left) no longer allow.
   */
  public void membershipChanged(String nodeId, Optional<Set<String>> rolesNow) {
    Set<EndableCall<?, ?>> open = calls.get(nodeId);
    if (open == null) {
      return;
    }
    // One log line per change, not per call: a liaison may have thousands of writes in flight.
    Map<String, Integer> closed = new TreeMap<>();
    String why = null;
    for (EndableCall<?, ?> c : open) {
      Optional<Refusal> refusal = check(nodeId, c.getMethodDescriptor().getFullMethodName(), rolesNow);
      if (refusal.isPresent()) {
        // Counted only when this close ends the call: one that ended on its own meanwhile is not evicted.
        if (c.end(Status.PERMISSION_DENIED.withDescription(refusal.get().why()))) {
          (refusal.get().unknownMember() ? evictedUnknownMember : evictedRole).increment();
          closed.merge(c.getMethodDescriptor().getFullMethodName(), 1, Integer::sum);
          why = refusal.get().why();
        }
        untrack(nodeId, c);
      }
    }
    if (!closed.isEmpty()) {
      LOG.info("closed calls of node '{}' {}: {}", nodeId, closed, why);
    }
  }

  /** Streaming calls of members open now. */
  public int openStreams() {
    return (int) calls.values().stream().flatMap(Set::stream)
        .filter(c -> c.getMethodDescriptor().getType() != MethodDescriptor.MethodType.UNARY).count();
  }

  /** Calls of members open now, unary and streaming. */
  public int openCalls() {
    return calls.values().stream().mapToInt(Set::size).sum();
  }

  /** Why a node may not make a call; {@code unknownMember} when it is not registered at all. */
  private record Refusal(String why, boolean unknownMember) {}

  private Optional<Refusal> check(String id, String method, Optional<Set<String>> roles) {
    if (roles.isEmpty()) {
      return Optional.of(new Refusal(
          "node '" + BoundedDescriptions.bounded(id) + "' is not a registered member of this cluster", true));
    }
    if (!access.allows(roles.get(), method)) {
      return Optional.of(new Refusal("node '" + BoundedDescriptions.bounded(id) + "' is registered as " + roles.get()
          + ", and only " + access.rolesAllowed(method) + " may call " + method + " on the internal listener", false));
    }
    return Optional.empty();
  }

  private void untrack(String nodeId, EndableCall<?, ?> s) {
    calls.computeIfPresent(nodeId, (k, set) -> {
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
