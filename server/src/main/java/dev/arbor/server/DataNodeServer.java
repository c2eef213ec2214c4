package dev.arbor.server;

import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.Role;
import dev.arbor.transport.SecurityConfig;
import dev.arbor.transport.ServerSecurity;
import dev.arbor.transport.TlsMaterial;
import dev.arbor.datanode.DataNodeGrpcService;
import dev.arbor.datanode.GroupDataKeeper;
import dev.arbor.metadata.MetadataGroupIncarnations;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.NodeRegistry;
import dev.arbor.metadata.RegisteredNode;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.HybridClock;
import dev.arbor.query.QueryPlanner;
import dev.arbor.repair.TreeAdminGrpcService;
import dev.arbor.runtime.NodeRuntime;
import dev.arbor.storage.IncarnationGate;
import dev.arbor.storage.PropertyStore;
import io.grpc.BindableService;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import dev.arbor.metadata.RevisionGuard;
import io.micrometer.core.instrument.Gauge;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running data node — a composition root: storage, repair trees, background repair
 * ({@link RepairNode}), and two listeners: the internal one (what peers and liaisons call:
 * {@code DataNodeService}, the repair session, gossip, coverage, trace queries; mutual TLS with the
 * cluster CA when configured, members only) and the admin one (what operators call, behind users
 * with role {@code admin}, plus the HTTP port). Registered in the node registry, at the internal
 * address, once it serves.
 * Metadata and the registry are given (etcd in a real cluster, shared in-process objects in the
 * dev cluster); a deleted group's data is dropped when this node observes the delete, and data
 * metadata no longer accounts for otherwise (the group vanished, another incarnation) is
 * quarantined ({@link GroupDataKeeper}).
 */
public final class DataNodeServer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DataNodeServer.class);
  /** How long an internal write waits for this node's metadata to show the incarnation it claims. */
  private static final Duration METADATA_LAG = Duration.ofSeconds(2);

  private final String nodeId;
  private final StorageNode storage;
  private final RepairNode repair;
  private final HandOffNode handOff;
  private final InternalEndpoint internal;
  private final ServingEndpoints endpoints;
  private final TlsMaterial nodeTls;
  private final NodeRegistry registry;
  private final String advertised;
  /** The console's clients of the other data nodes. */
  private final dev.arbor.cluster.DataNodes consolePeers;
  private final NodeRuntime runtime;
  private boolean closed;

  private DataNodeServer(NodeRuntime runtime, String nodeId, StorageNode storage, RepairNode repair, HandOffNode handOff,
      InternalEndpoint internal, ServingEndpoints endpoints, TlsMaterial nodeTls, NodeRegistry registry,
      String advertised, dev.arbor.cluster.DataNodes consolePeers) {
    this.runtime = runtime;
    this.consolePeers = consolePeers;
    this.internal = internal;
    this.nodeTls = nodeTls;
    this.handOff = handOff;
    this.nodeId = nodeId;
    this.storage = storage;
    this.repair = repair;
    this.endpoints = endpoints;
    this.registry = registry;
    this.advertised = advertised;
  }

  /**
   * @param advertiseHost the host other nodes reach this one at (the bound port is appended)
   * @param ttl registration lifetime without renewal (etcd lease)
   */
  public static DataNodeServer start(String nodeId, ServerConfig config, MetadataStore metadata,
      NodeRegistry registry, String advertiseHost, Duration ttl) throws IOException {
    return start(nodeId, config, metadata, registry, advertiseHost, ttl, SecurityConfig.NONE);
  }

  /**
   * As above, the admin listener (gRPC and HTTP) secured by {@code adminSecurity}; the internal
   * listener on loopback, any free port, plaintext.
   */
  public static DataNodeServer start(String nodeId, ServerConfig config, MetadataStore metadata,
      NodeRegistry registry, String advertiseHost, Duration ttl, SecurityConfig adminSecurity) throws IOException {
    return start(nodeId, config, metadata, registry, advertiseHost, ttl, adminSecurity, InternalListener.loopback());
  }

  /**
   * As above, what peers call served on {@code internal} (the address registered for other nodes,
   * with mutual TLS when it has TLS files); the admin services ({@code RunRepair}, {@code Traces},
   * {@code BuildTrees}) and the HTTP port on {@code config}'s host and ports, every admin RPC
   * needing role {@code admin} when {@code adminSecurity} has users.
   *
   * @throws IllegalArgumentException a TLS or users file cannot be used, the node certificate is
   *     not for {@code nodeId}, or the internal listener would be exposed without protection
   */
  public static DataNodeServer start(String nodeId, ServerConfig config, MetadataStore metadata,
      NodeRegistry registry, String advertiseHost, Duration ttl, SecurityConfig adminSecurity,
      InternalListener internal) throws IOException {
    return start(NodeRuntime.system(), nodeId, config, metadata, registry, advertiseHost, ttl, adminSecurity,
        internal);
  }

  /**
   * As above, on {@code runtime}: the node's clocks and every thread it starts. The node owns it
   * from here: {@link #close()} (or a failed start) closes it last.
   */
  public static DataNodeServer start(NodeRuntime runtime, String nodeId, ServerConfig config,
      MetadataStore metadata, NodeRegistry registry, String advertiseHost, Duration ttl,
      SecurityConfig adminSecurity, InternalListener internal) throws IOException {
    try {
      return startOn(runtime, nodeId, config, metadata, registry, advertiseHost, ttl, adminSecurity, internal);
    } catch (IOException | RuntimeException e) {
      runtime.close();
      throw e;
    }
  }

  private static DataNodeServer startOn(NodeRuntime runtime, String nodeId, ServerConfig config,
      MetadataStore metadata, NodeRegistry registry, String advertiseHost, Duration ttl,
      SecurityConfig adminSecurity, InternalListener internal) throws IOException {
    if (internal.checkExposure()) {
      LOG.warn("--insecure-internal: the internal listener {}:{} takes writes, repair and gossip from anyone who"
          + " reaches it (no mutual TLS)", internal.host(), internal.port());
    }
    TlsMaterial nodeTls = internal.tls() == null ? null : internal.tls().load(nodeId);
    ServerSecurity security;
    try {
      security = adminSecurity.open(m -> Role.ADMIN);
    } catch (RuntimeException e) {
      if (nodeTls != null) {
        nodeTls.close();
      }
      throw e;
    }
    ChannelFactory peers = nodeTls == null ? ChannelFactory.plaintext() : ChannelFactory.mutualTls(nodeTls);
    HybridClock clock = new HybridClock(runtime.wallClock()::nanos);
    PrometheusMeterRegistry meters = ServingEndpoints.newRegistry();
    StorageNode storage;
    try {
      storage = StorageNode.open(runtime, config, metadata, clock, meters);
    } catch (IOException | RuntimeException e) {
      security.close();
      if (nodeTls != null) {
        nodeTls.close();
      }
      throw e;
    }
    RepairNode repair = null;
    HandOffNode handOff = null;
    InternalEndpoint internalEndpoint = null;
    ServingEndpoints endpoints = null;
    dev.arbor.cluster.DataNodes consolePeers = null;
    try {
      // Decides the long-absence fence before anything serves this node's copies.
      handOff = HandOffNode.create(runtime, nodeId, config, storage.store(), metadata,
          () -> registry.nodes().stream().filter(n -> n.hasRole("data"))
              .map(n -> dev.arbor.cluster.DataNode.of(n.id(), n.grpcAddress())).toList(),
          meters, peers);
      repair = RepairNode.create(runtime, nodeId, config, storage, metadata, registry, meters, handOff.fence(), peers);
      SchemaLookup lookup = new SchemaLookup(metadata);
      List<BindableService> internalServices = new java.util.ArrayList<>(List.of(
          new DataNodeGrpcService(lookup, storage.store(), new QueryPlanner(lookup, storage.store()),
              new IncarnationGate(storage.store(), new MetadataGroupIncarnations(metadata), METADATA_LAG),
              dev.arbor.property.RevisionBound.of(runtime.wallClock()::nanos,
                  config.repair().maxClockSkew()),
              handOff.fence(), METADATA_LAG, config.responseBudget())));
      internalServices.addAll(repair.services());
      long startedMs = runtime.wallClock().millis();
      dev.arbor.repair.TreeStatusService treeStatus =
          ConsoleWiring.treeStatus(nodeId, metadata, storage, repair.watermarks(), startedMs);
      internalServices.add(treeStatus);
      List<BindableService> adminServices = new java.util.ArrayList<>(List.of(
          new TreeAdminGrpcService(metadata, storage.trees())));
      adminServices.addAll(repair.adminServices());
      // Started first: its server's limiter is the one the node's call gauges report (peers and
      // liaisons make nearly all of a data node's calls).
      internalEndpoint = InternalEndpoint.start(internal.host(), internal.port(), internalServices, nodeTls,
          registry, meters, config.serverLimits().withoutReplyCap()); // its callers are liaisons, which read at once
      endpoints =
          ServingEndpoints.start(runtime, config.grpcHost(), config.grpcPort(), config.httpPort(), adminServices, meters,
              config.serverLimits().withoutReplyCap(), security);
      endpoints.addJsonRoute(dev.arbor.observability.trace.TraceHttpHandler.PATH, repair.traceHttpHandler());
      consolePeers = new dev.arbor.cluster.DataNodes(ConsoleWiring.CALL_TIMEOUT, peers);
      dev.arbor.cluster.DataNodes finalPeers = consolePeers;
      registry.addListener(e -> finalPeers.update(dataNodesOf(registry)));
      consolePeers.update(dataNodesOf(registry));
      endpoints.serveConsole(ConsoleWiring.dataNode(nodeId, metadata, registry, consolePeers,
          new dev.arbor.console.LocalReplica(nodeId, treeStatus, storage.store()), repair, endpoints));
      RepairNode finalRepair = repair;
      // After the store: the data directory is locked by now.
      RevisionGuard guard = RevisionGuard.open(config.dataDir());
      metadata.addRevisionListener(guard::observe);
      Gauge.builder("arbor.metadata.revision.regressed", guard, RevisionGuard::regressed)
          .description("1 while metadata went back in time (etcd restored or replaced) and is not trusted to delete"
              + " data; cleared by 'arbor metadata accept-revision'").register(meters);
      Gauge.builder("arbor.metadata.unreadable.values", metadata, m -> m.unreadableValues().size())
          .description("metadata values that cannot be read or are invalid; each keeps its last good value")
          .register(meters);
      GroupDataKeeper keeper = new GroupDataKeeper(storage.store(), guard::alarm);
      metadata.addListener(e -> {
        if (e.observedDeleteOf().isPresent()) {
          try {
            finalRepair.watermarks().dropGroup(e.groupName());
          } catch (RuntimeException ex) {
            LOG.error("dropping the coverage watermarks of deleted group {} failed", e.groupName(), ex);
          }
        }
        keeper.onEvent(e);
      });
      // Changes made between opening the store and listening were not seen.
      storage.store().groupsOnDisk().forEach(keeper::reconcile);
      storage.start(repair.purgeCutoff());
      repair.start();
      endpoints.healthProblems(storage.store()::storageProblems);
      // Without its metadata a data node neither sees schema changes nor stays registered.
      endpoints.readinessProblems(() -> MetadataReadiness.problems(metadata, registry));
      endpoints.markServing();
      String advertised = advertiseHost + ":" + internalEndpoint.port();
      registry.register(new RegisteredNode(nodeId, advertised, Set.of("data"), ConsoleWiring.registrationLabels(runtime.wallClock())), ttl);
      handOff.start();
      return new DataNodeServer(runtime, nodeId, storage, repair, handOff, internalEndpoint, endpoints, nodeTls,
          registry, advertised, consolePeers);
    } catch (IOException | RuntimeException e) {
      // Registration comes last and may be refused (id held by another node): nothing may keep
      // serving then.
      if (endpoints != null) {
        endpoints.close();
      } else {
        security.close();
      }
      if (internalEndpoint != null) {
        internalEndpoint.close();
      }
      if (consolePeers != null) {
        consolePeers.close();
      }
      if (handOff != null) {
        handOff.close();
      }
      if (repair != null) {
        repair.close();
      }
      storage.close();
      if (nodeTls != null) {
        nodeTls.close();
      }
      throw e;
    }
  }

  private static List<dev.arbor.cluster.DataNode> dataNodesOf(NodeRegistry registry) {
    return registry.nodes().stream().filter(n -> n.hasRole("data"))
        .map(n -> dev.arbor.cluster.DataNode.of(n.id(), n.grpcAddress())).toList();
  }

  public String nodeId() {
    return nodeId;
  }

  /** The address other nodes use ({@code host:port}). */
  public String advertisedAddress() {
    return advertised;
  }

  /** Rounds this node originates (the admin API's entry point; also used by tests). */
  public dev.arbor.repair.RepairRounds repairRounds() {
    return repair.rounds();
  }

  /** The coverage watermarks this node keeps (tests). */
  public dev.arbor.repair.coverage.WatermarkStore coverageWatermarks() {
    return repair.watermarks();
  }

  /** The admin listener's gRPC port (operators: repair runs, trace queries, tree builds). */
  public int grpcPort() {
    return endpoints.grpcPort();
  }

  /** The internal listener's port (what peers and liaisons call; the registered address). */
  public int internalPort() {
    return internal.port();
  }

  public int httpPort() {
    return endpoints.httpPort();
  }

  /** Drains calls, stops storage; the registration ends with the registry (or its TTL). */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (registry instanceof dev.arbor.metadata.EmbeddedNodeRegistry shared) {
      shared.deregister(nodeId);
    }
    handOff.close();
    repair.close();
    endpoints.close();
    consolePeers.close();
    internal.close();
    storage.close();
    if (nodeTls != null) {
      nodeTls.close();
    }
    // Last: whatever the node's parts started and did not stop themselves.
    runtime.close();
  }
}
