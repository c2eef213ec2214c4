package dev.arbor.transport;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Optional;
import java.util.function.Predicate;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Admits a call on the internal listener only from a current member of the cluster: the TLS
 * handshake already proved the caller holds a certificate of the cluster CA; this maps the
 * certificate to its node id and asks the registry whether that node is registered now. A node
 * that left (or was never registered) keeps a valid certificate, so the CA alone is not enough.
 * Refusals are PERMISSION_DENIED and counted in {@code arbor_internal_calls_refused_total{reason}}.
 */
public final class MemberInterceptor implements ServerInterceptor {
  private final Predicate<String> isMember;
  private final Counter noCertificate;
  private final Counter unknownMember;

  /** @param isMember whether a node id is registered now (a local lookup: runs on every call) */
  public MemberInterceptor(Predicate<String> isMember, MeterRegistry registry) {
    this.isMember = isMember;
    this.noCertificate = refused(registry, "no_certificate");
    this.unknownMember = refused(registry, "unknown_member");
  }

  private static Counter refused(MeterRegistry registry, String reason) {
    return Counter.builder("arbor.internal.calls.refused").tag("reason", reason)
        .description("calls on the internal listener refused: no node certificate, or its node is not registered")
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
    if (!isMember.test(node.get())) {
      unknownMember.increment();
      return refuse(call, "node '" + BoundedDescriptions.bounded(node.get())
          + "' is not a registered member of this cluster");
    }
    return next.startCall(call, headers);
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
