package dev.arbor.server;

import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.console.v1.ConsoleStatusServiceGrpc;
import dev.arbor.api.repair.v1.RepairAdminServiceGrpc;
import dev.arbor.metadata.NodeEvent;
import dev.arbor.metadata.NodeRegistry;
import dev.arbor.metadata.RegisteredNode;
import dev.arbor.transport.GrpcServerLimits;
import dev.arbor.transport.GrpcServers;
import dev.arbor.transport.HttpAuth;
import dev.arbor.transport.MemberAccess;
import dev.arbor.transport.MemberInterceptor;
import dev.arbor.transport.ServerSecurity;
import dev.arbor.transport.TlsMaterial;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.BindException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A data node's internal gRPC listener: what peers and liaisons call. With mutual TLS
 * ({@code material} given) a caller needs a certificate of the cluster CA naming a node that is
 * registered now, in a role that may make the call ({@link #ACCESS}); without it, anyone who
 * reaches the address may call.
 */
final class InternalEndpoint implements AutoCloseable {
  /**
   * What each member role may call: a data node everything (it repairs, gossips, and answers
   * its peers' trace queries); a liaison the reads and writes it forwards from clients, trace
   * queries, and what its web console asks (tree status, starting a round) — never the repair
   * session, gossip or coverage, through which records are pushed and rounds reported.
   */
  static final MemberAccess ACCESS = new MemberAccess(Map.of(
      "data", Set.of(MemberAccess.ALL),
      "liaison", Set.of(DataNodeServiceGrpc.getWriteMethod().getFullMethodName(),
          DataNodeServiceGrpc.getReadMethod().getFullMethodName(),
          DataNodeServiceGrpc.getQueryShardsMethod().getFullMethodName(),
          RepairAdminServiceGrpc.getTracesMethod().getFullMethodName(),
          RepairAdminServiceGrpc.getRunRepairMethod().getFullMethodName(),
          ConsoleStatusServiceGrpc.getTreeStatusMethod().getFullMethodName())));

  private final Server grpc;
  private final String host;

  private InternalEndpoint(Server grpc, String host) {
    this.grpc = grpc;
    this.host = host;
  }

  /**
   * @param material this node's certificate and the cluster CA, or null for plaintext; owned by
   *     the caller (clients use it too)
   */
  static InternalEndpoint start(String host, int port, List<BindableService> services, TlsMaterial material,
      NodeRegistry registry, MeterRegistry meters, GrpcServerLimits limits) throws IOException {
    ServerSecurity security = material == null ? ServerSecurity.NONE
        : new ServerSecurity(material, null, null, HttpAuth.NONE);
    List<ServerInterceptor> admission = List.of();
    if (material != null) {
      MemberInterceptor members = new MemberInterceptor(id -> registry.node(id).map(RegisteredNode::roles),
          ACCESS, meters);
      // A repair session of a node that leaves (or loses its role) ends with its membership.
      registry.addListener(e -> members.membershipChanged(e.node().id(),
          e.type() == NodeEvent.Type.LEFT ? Optional.empty() : Optional.of(e.node().roles())));
      admission = List.of(members);
    }
    try {
      return new InternalEndpoint(GrpcServers.start(host, port, services, meters, limits, security, admission), host);
    } catch (IOException e) {
      Throwable root = e;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      String why = root instanceof BindException ? "address already in use" : String.valueOf(root.getMessage());
      throw new IOException("cannot listen for internal gRPC on " + host + ":" + port + ": " + why, e);
    }
  }

  int port() {
    return grpc.getPort();
  }

  String host() {
    return host;
  }

  /** Stops accepting calls and drains in-flight ones (bounded). */
  @Override
  public void close() {
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
  }
}
