package dev.arbor.server;

import dev.arbor.transport.SecurityConfig;
import dev.arbor.transport.ServerSecurity;
import dev.arbor.datanode.DataNodeGrpcService;
import dev.arbor.metadata.MetadataGroupIncarnations;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.NodeRegistry;
import dev.arbor.metadata.RegisteredNode;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.HybridClock;
import dev.arbor.query.QueryPlanner;
import dev.arbor.repair.TreeAdminGrpcService;
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
 * ({@link RepairNode}), the internal {@code DataNodeService} and the admin APIs, registered in
 * the node registry once it serves.
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
  private final ServingEndpoints endpoints;
  private final NodeRegistry registry;
  private final String advertised;
  private boolean closed;

  private DataNodeServer(String nodeId, StorageNode storage, RepairNode repair, HandOffNode handOff,
      ServingEndpoints endpoints, NodeRegistry registry, String advertised) {
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
   * As above, the HTTP port ({@code /metrics}, {@code /repair/traces}) guarded by the users of
   * {@code httpSecurity}; the gRPC port has no authentication yet (peers call it).
   */
  public static DataNodeServer start(String nodeId, ServerConfig config, MetadataStore metadata,
      NodeRegistry registry, String advertiseHost, Duration ttl, SecurityConfig httpSecurity) throws IOException {
    ServerSecurity security = httpSecurity.openHttpOnly();
    HybridClock clock = HybridClock.system();
    PrometheusMeterRegistry meters = ServingEndpoints.newRegistry();
    StorageNode storage;
    try {
      storage = StorageNode.open(config, metadata, clock, meters);
    } catch (IOException | RuntimeException e) {
      security.close();
      throw e;
    }
    RepairNode repair = null;
    HandOffNode handOff = null;
    ServingEndpoints endpoints = null;
    try {
      // Decides the long-absence fence before anything serves this node's copies.
      handOff = HandOffNode.create(nodeId, config, storage.store(), metadata,
          () -> registry.nodes().stream().filter(n -> n.hasRole("data"))
              .map(n -> dev.arbor.cluster.DataNode.of(n.id(), n.grpcAddress())).toList(),
          meters);
      repair = RepairNode.create(nodeId, config, storage, metadata, registry, meters, handOff.fence());
      SchemaLookup lookup = new SchemaLookup(metadata);
      List<BindableService> services = new java.util.ArrayList<>(List.of(
          new DataNodeGrpcService(lookup, storage.store(), new QueryPlanner(lookup, storage.store()),
              new IncarnationGate(storage.store(), new MetadataGroupIncarnations(metadata), METADATA_LAG),
              dev.arbor.property.RevisionBound.of(dev.arbor.observability.trace.Tracer::nowNanos,
                  config.repair().maxClockSkew()),
              handOff.fence(), METADATA_LAG, config.responseBudget()),
          new TreeAdminGrpcService(metadata, storage.trees())));
      services.addAll(repair.services());
      endpoints =
          ServingEndpoints.start(config.grpcHost(), config.grpcPort(), config.httpPort(), services, meters,
              config.serverLimits().withoutReplyCap(), security); // its callers are liaisons, which read at once
      endpoints.addJsonRoute(dev.arbor.observability.trace.TraceHttpHandler.PATH, repair.traceHttpHandler());
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
      endpoints.markServing();
      String advertised = advertiseHost + ":" + endpoints.grpcPort();
      registry.register(RegisteredNode.of(nodeId, advertised, Set.of("data")), ttl);
      handOff.start();
      return new DataNodeServer(nodeId, storage, repair, handOff, endpoints, registry, advertised);
    } catch (IOException | RuntimeException e) {
      // Registration comes last and may be refused (id held by another node): nothing may keep
      // serving then.
      if (endpoints != null) {
        endpoints.close();
      } else {
        security.close();
      }
      if (handOff != null) {
        handOff.close();
      }
      if (repair != null) {
        repair.close();
      }
      storage.close();
      throw e;
    }
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

  public int grpcPort() {
    return endpoints.grpcPort();
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
    storage.close();
  }
}
