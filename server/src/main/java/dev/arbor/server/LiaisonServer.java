package dev.arbor.server;

import dev.arbor.runtime.NodeRuntime;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.DataNodes;
import dev.arbor.cluster.WriteConsistency;
import dev.arbor.liaison.ReplicaCallLimits;
import dev.arbor.liaison.ReplicatedApi;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.NodeRegistry;
import dev.arbor.metadata.RegisteredNode;
import dev.arbor.property.HybridClock;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.GrpcServerLimits;
import dev.arbor.transport.SecurityConfig;
import dev.arbor.transport.ServerSecurity;
import dev.arbor.transport.TlsMaterial;
import java.util.Set;
import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * A running liaison — a composition root: the public BanyanDB API over the registered data
 * nodes (placement follows the registry), with read repair. Holds no property data. Registers
 * itself with role {@code liaison} (data nodes serve registered members only).
 */
public final class LiaisonServer implements AutoCloseable {
  private final DataNodes nodes;
  private final ReplicatedApi api;
  private final ServingEndpoints endpoints;
  private final NodeRegistry registry;
  private final String nodeId;
  private final TlsMaterial nodeTls;
  /** The data nodes' trace spans, for the console's repair timeline. */
  private final dev.arbor.observability.trace.TraceQuery traces;
  private boolean closed;
  /** Set once started; closed last. */
  private NodeRuntime runtime;

  private LiaisonServer(DataNodes nodes, ReplicatedApi api, ServingEndpoints endpoints, NodeRegistry registry,
      String nodeId, TlsMaterial nodeTls, dev.arbor.observability.trace.TraceQuery traces) {
    this.traces = traces;
    this.registry = registry;
    this.nodeId = nodeId;
    this.nodeTls = nodeTls;
    this.nodes = nodes;
    this.api = api;
    this.endpoints = endpoints;
  }

  /**
   * @param consistency write consistency of every apply and delete
   * @param nodeDeadline deadline of each call to a data node
   */
  public static LiaisonServer start(String host, int grpcPort, int httpPort, MetadataStore metadata,
      NodeRegistry registry, dev.arbor.liaison.RequestLimits limits, WriteConsistency consistency,
      Duration nodeDeadline, int repairQueueSize) throws IOException {
    return start(host, grpcPort, httpPort, metadata, registry, limits, consistency, nodeDeadline, repairQueueSize,
        HybridClock.system(), GrpcServerLimits.DEFAULTS);
  }

  /** As above, issuing versions from {@code clock}, its gRPC server held to {@code serverLimits}. */
  public static LiaisonServer start(String host, int grpcPort, int httpPort, MetadataStore metadata,
      NodeRegistry registry, dev.arbor.liaison.RequestLimits limits, WriteConsistency consistency,
      Duration nodeDeadline, int repairQueueSize, HybridClock clock, GrpcServerLimits serverLimits)
      throws IOException {
    return start(host, grpcPort, httpPort, metadata, registry, limits, consistency, nodeDeadline, repairQueueSize,
        clock, serverLimits, ReplicaCallLimits.DEFAULTS);
  }

  /** As above, its calls to data nodes held to {@code fanOut}. */
  public static LiaisonServer start(String host, int grpcPort, int httpPort, MetadataStore metadata,
      NodeRegistry registry, dev.arbor.liaison.RequestLimits limits, WriteConsistency consistency,
      Duration nodeDeadline, int repairQueueSize, HybridClock clock, GrpcServerLimits serverLimits,
      ReplicaCallLimits fanOut) throws IOException {
    return start(host, grpcPort, httpPort, metadata, registry, limits, consistency, nodeDeadline, repairQueueSize,
        clock, serverLimits, fanOut, SecurityConfig.NONE);
  }

  /**
   * As above, the public ports secured as {@code securityConfig} says (TLS, users and roles).
   *
   * @throws IllegalArgumentException a TLS or users file cannot be used; nothing was opened
   */
  public static LiaisonServer start(String host, int grpcPort, int httpPort, MetadataStore metadata,
      NodeRegistry registry, dev.arbor.liaison.RequestLimits limits, WriteConsistency consistency,
      Duration nodeDeadline, int repairQueueSize, HybridClock clock, GrpcServerLimits serverLimits,
      ReplicaCallLimits fanOut, SecurityConfig securityConfig) throws IOException {
    return start(host, grpcPort, httpPort, metadata, registry, limits, consistency, nodeDeadline, repairQueueSize,
        clock, serverLimits, fanOut, securityConfig, null);
  }

  /**
   * As above, registered in {@code registry} as {@code membership} says (null: not registered,
   * plaintext calls to data nodes — tests whose data nodes admit anyone).
   *
   * @throws IllegalArgumentException a TLS or users file cannot be used, or the node certificate
   *     is not for the membership's node id; nothing was opened
   */
  public static LiaisonServer start(String host, int grpcPort, int httpPort, MetadataStore metadata,
      NodeRegistry registry, dev.arbor.liaison.RequestLimits limits, WriteConsistency consistency,
      Duration nodeDeadline, int repairQueueSize, HybridClock clock, GrpcServerLimits serverLimits,
      ReplicaCallLimits fanOut, SecurityConfig securityConfig, LiaisonMembership membership) throws IOException {
    return start(NodeRuntime.system(), host, grpcPort, httpPort, metadata, registry, limits, consistency, nodeDeadline,
        repairQueueSize, clock, serverLimits, fanOut, securityConfig, membership);
  }

  /**
   * As above, on {@code runtime} (the liaison's threads), which the liaison owns from here:
   * {@link #close()} or a failed start closes it last.
   */
  public static LiaisonServer start(NodeRuntime runtime, String host, int grpcPort, int httpPort,
      MetadataStore metadata, NodeRegistry registry, dev.arbor.liaison.RequestLimits limits,
      WriteConsistency consistency, Duration nodeDeadline, int repairQueueSize, HybridClock clock,
      GrpcServerLimits serverLimits, ReplicaCallLimits fanOut, SecurityConfig securityConfig,
      LiaisonMembership membership) throws IOException {
    try {
      LiaisonServer started = startOn(runtime, host, grpcPort, httpPort, metadata, registry, limits, consistency,
          nodeDeadline, repairQueueSize, clock, serverLimits, fanOut, securityConfig, membership);
      started.runtime = runtime;
      return started;
    } catch (IOException | RuntimeException e) {
      runtime.close();
      throw e;
    }
  }

  private static LiaisonServer startOn(NodeRuntime runtime, String host, int grpcPort, int httpPort,
      MetadataStore metadata, NodeRegistry registry, dev.arbor.liaison.RequestLimits limits,
      WriteConsistency consistency, Duration nodeDeadline, int repairQueueSize, HybridClock clock,
      GrpcServerLimits serverLimits, ReplicaCallLimits fanOut, SecurityConfig securityConfig,
      LiaisonMembership membership) throws IOException {
    TlsMaterial nodeTls = membership == null || membership.tls() == null ? null
        : membership.tls().load(membership.nodeId());
    ServerSecurity security;
    try {
      security = securityConfig.open(ApiRoles::required);
    } catch (RuntimeException e) {
      if (nodeTls != null) {
        nodeTls.close();
      }
      throw e;
    }
    DataNodes nodes = new DataNodes(nodeDeadline,
        nodeTls == null ? ChannelFactory.plaintext() : ChannelFactory.mutualTls(nodeTls));
    registry.addListener(e -> nodes.update(dataNodes(registry)));
    nodes.update(dataNodes(registry));
    ReplicatedApi api = new ReplicatedApi(runtime, metadata, nodes, clock, limits,
        StandaloneServer.REVISION, () -> consistency, repairQueueSize, fanOut);
    PrometheusMeterRegistry meters = ServingEndpoints.newRegistry();
    Gauge.builder("arbor.replica.calls.pending", api, ReplicatedApi::replicaCallsPending)
        .description("calls to data nodes running or queued").register(meters);
    FunctionCounter.builder("arbor.replica.calls.refused", api, ReplicatedApi::replicaCallsRefused)
        .description("requests refused RESOURCE_EXHAUSTED because --replica-call-threads plus"
            + " --replica-call-queue calls to data nodes were running or queued").register(meters);
    FunctionCounter.builder("arbor.replica.calls.expired", api, ReplicatedApi::replicaCallsExpired)
        .description("calls to data nodes not sent because they waited in the queue past their deadline")
        .register(meters);
    FunctionCounter.builder("arbor.replica.batch.calls", api, a -> a.replicaBatchCounts()[0])
        .description("batched Writes and Reads sent to data nodes").register(meters);
    FunctionCounter.builder("arbor.replica.batch.callers", api, a -> a.replicaBatchCounts()[1])
        .description("callers the batched Writes and Reads carried (over arbor_replica_batch_calls: the mean batch)")
        .register(meters);
    FunctionCounter.builder("arbor.read.repair.enqueued", api, a -> a.readRepairCounts()[0])
        .description("read repairs queued").register(meters);
    FunctionCounter.builder("arbor.read.repair.written", api, a -> a.readRepairCounts()[1])
        .description("read repairs written to a lagging replica").register(meters);
    FunctionCounter.builder("arbor.read.repair.dropped", api, a -> a.readRepairCounts()[2])
        .description("read repairs dropped because the queue was full").register(meters);
    FunctionCounter.builder("arbor.read.repair.failed", api, a -> a.readRepairCounts()[3])
        .description("read repairs that failed or that the replica refused").register(meters);
    FunctionCounter.builder("arbor.read.repair.superseded", api, a -> a.readRepairCounts()[4])
        .description("read repairs not needed: the replica already held a newer version").register(meters);
    ServingEndpoints endpoints = null;
    dev.arbor.observability.trace.TraceQuery traces = null;
    try {
      endpoints = ServingEndpoints.start(runtime, host, grpcPort, httpPort, api.services(), meters, serverLimits, security);
      endpoints.serveHttpApi();
      traces = new dev.arbor.observability.trace.TraceQuery(membership == null ? "liaison" : membership.nodeId(),
          dev.arbor.observability.trace.SpanSource.NONE, () -> dataNodes(registry),
          dev.arbor.observability.trace.TraceQuery.DEFAULT_PEER_DEADLINE,
          nodeTls == null ? ChannelFactory.plaintext() : ChannelFactory.mutualTls(nodeTls));
      endpoints.serveConsole(ConsoleWiring.liaison(membership == null ? "liaison" : membership.nodeId(), metadata,
          registry, nodes, traces, endpoints));
      // Not ready for traffic (health service, /api/healthz) until a data node can take it;
      // /health stays a liveness answer so a liaison may start before its data nodes.
      endpoints.readinessProblems(() -> {
        List<String> problems = MetadataReadiness.problems(metadata, registry);
        if (registry.nodes().stream().noneMatch(n -> n.hasRole("data"))) {
          problems.add("no data node registered");
        }
        return problems;
      });
      if (membership != null) {
        // Before the public port counts as serving: data nodes refuse calls of a liaison they do
        // not know as a member.
        registry.register(new RegisteredNode(membership.nodeId(),
            membership.advertisedHost() + ":" + endpoints.grpcPort(), Set.of("liaison"),
            ConsoleWiring.registrationLabels(runtime.wallClock())), membership.ttl());
      }
      endpoints.markServing();
      return new LiaisonServer(nodes, api, endpoints, registry, membership == null ? null : membership.nodeId(),
          nodeTls, traces);
    } catch (IOException | RuntimeException e) {
      if (endpoints != null) {
        endpoints.close();
      }
      if (traces != null) {
        traces.close();
      }
      api.close();
      nodes.close();
      security.close();
      if (nodeTls != null) {
        nodeTls.close();
      }
      throw e;
    }
  }

  private static List<DataNode> dataNodes(NodeRegistry registry) {
    return registry.nodes().stream()
        .filter(n -> n.hasRole("data"))
        .map((RegisteredNode n) -> DataNode.of(n.id(), n.grpcAddress()))
        .toList();
  }

  public int grpcPort() {
    return endpoints.grpcPort();
  }

  public int httpPort() {
    return endpoints.httpPort();
  }

  public void awaitTermination() throws InterruptedException {
    endpoints.awaitTermination();
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (nodeId != null && registry instanceof dev.arbor.metadata.EmbeddedNodeRegistry shared) {
      shared.deregister(nodeId);
    }
    endpoints.close();
    traces.close();
    api.close();
    nodes.close();
    if (nodeTls != null) {
      nodeTls.close();
    }
    runtime.close();
  }
}
