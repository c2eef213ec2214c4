package dev.arbor.server;

import dev.arbor.api.repair.v1.RepairProgress;
import dev.arbor.api.repair.v1.RunRepairRequest;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.DataNodes;
import dev.arbor.cluster.NodeId;
import dev.arbor.console.ConsoleHandler;
import dev.arbor.console.ConsoleSources;
import dev.arbor.console.LocalReplica;
import dev.arbor.console.PeerReplicas;
import dev.arbor.console.RepairLauncher;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.NodeRegistry;
import dev.arbor.metadata.RegisteredNode;
import dev.arbor.repair.TreeStatusService;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/** Builds the web console of each kind of node from what its composition root holds. */
final class ConsoleWiring {
  /** How long a console page waits for the nodes it asks. */
  static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
  static final String STANDALONE_ID = "standalone";

  private ConsoleWiring() {}

  /** The registration labels of a node starting now (its registration age on the console). */
  static Map<String, String> registrationLabels(dev.arbor.runtime.WallClock clock) {
    return Map.of(ConsoleSources.REGISTERED_AT_LABEL, Long.toString(clock.millis()));
  }

  /** This node's storage status, served in-process and (on data nodes) to peers. */
  static TreeStatusService treeStatus(String nodeId, MetadataStore metadata, StorageNode storage,
      dev.arbor.repair.coverage.WatermarkStore watermarks, long startedMs) {
    return new TreeStatusService(nodeId, metadata, storage.store(), storage.trees(),
        watermarks == null ? (g, s) -> Optional.empty() : watermarks::get, storage::diskUsedPercent,
        storage.store()::storageProblems, startedMs, storage.config().tombstoneGrace(), storage.wallClock()::millis);
  }

  /** Standalone: one node that holds every shard, no repair, no trace store. */
  static ConsoleHandler standalone(MetadataStore metadata, StorageNode storage, ServingEndpoints endpoints,
      String grpcHost, long startedMs) {
    LocalReplica local = new LocalReplica(STANDALONE_ID,
        treeStatus(STANDALONE_ID, metadata, storage, null, startedMs), storage.store());
    RegisteredNode self = new RegisteredNode(STANDALONE_ID, grpcHost + ":" + endpoints.grpcPort(),
        Set.of("standalone"), Map.of(ConsoleSources.REGISTERED_AT_LABEL, Long.toString(startedMs)));
    ConsoleSources sources = new ConsoleSources(STANDALONE_ID, "standalone", () -> List.of(self), metadata,
        (g, s, c) -> List.of(STANDALONE_ID), local, null, null, endpoints.users(), CALL_TIMEOUT);
    return new ConsoleHandler(endpoints.runtime(), sources);
  }

  /** A data node: itself in-process, peers over the internal listener; rounds it originates. */
  static ConsoleHandler dataNode(String nodeId, MetadataStore metadata, NodeRegistry registry, DataNodes peers,
      LocalReplica self, RepairNode repair, ServingEndpoints endpoints) {
    RepairLauncher launcher = (req, events) -> dev.arbor.repair.RepairRun.run(repair.rounds(), req, events, () -> false);
    ConsoleSources sources = new ConsoleSources(nodeId, "data", registry::nodes, metadata,
        (g, s, c) -> peers.replicas(g, s, c).stream().map(n -> n.id().value()).toList(),
        new PeerReplicas(self, peers), repair.traceQuery()::query, launcher, endpoints.users(), CALL_TIMEOUT);
    return new ConsoleHandler(endpoints.runtime(), sources);
  }

  /**
   * A liaison: every data node over its internal listener; traces and repair rounds asked of the
   * data nodes (a round is originated by the first node of the shard's ring, or of the group's
   * first shard for a whole group).
   */
  static ConsoleHandler liaison(String nodeId, MetadataStore metadata, NodeRegistry registry, DataNodes nodes,
      dev.arbor.observability.trace.TraceQuery traces, ServingEndpoints endpoints) {
    RepairLauncher launcher = (req, events) -> remoteRepair(metadata, nodes, req, events);
    ConsoleSources sources = new ConsoleSources(nodeId, "liaison", registry::nodes, metadata,
        (g, s, c) -> nodes.replicas(g, s, c).stream().map(n -> n.id().value()).toList(),
        new PeerReplicas(null, nodes), traces::query, launcher, endpoints.users(), CALL_TIMEOUT);
    return new ConsoleHandler(endpoints.runtime(), sources);
  }

  private static void remoteRepair(MetadataStore metadata, DataNodes nodes, RunRepairRequest req,
      Consumer<RepairProgress> events) throws InterruptedException {
    int copies = metadata.group(req.getGroup())
        .map(g -> dev.arbor.cluster.Placement.copies(g.getResourceOpts().getReplicas()))
        .orElseThrow(() -> new dev.arbor.errors.NotFoundException("group " + req.getGroup() + " not found"));
    List<DataNode> ring = nodes.replicas(req.getGroup(), req.getAllShards() ? 0 : req.getShard(), copies);
    if (ring.isEmpty()) {
      throw new dev.arbor.errors.UnavailableException("no data node is registered");
    }
    NodeId origin = ring.get(0).id();
    CountDownLatch done = new CountDownLatch(1);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    nodes.client(origin).runRepair(req, new StreamObserver<>() {
      @Override
      public void onNext(RepairProgress value) {
        events.accept(value);
      }

      @Override
      public void onError(Throwable t) {
        failure.set(t);
        done.countDown();
      }

      @Override
      public void onCompleted() {
        done.countDown();
      }
    });
    done.await();
    Throwable t = failure.get();
    if (t != null) {
      Status s = Status.fromThrowable(t);
      throw new dev.arbor.errors.UnavailableException("data node " + origin + " (origin of the round): "
          + s.getCode() + (s.getDescription() == null ? "" : " " + s.getDescription()), t);
    }
  }
}
