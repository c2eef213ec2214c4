package dev.arbor.repair.gossip;

import static org.awaitility.Awaitility.await;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.repair.v1.GossipServiceGrpc;
import dev.arbor.api.repair.v1.PropagationContext;
import dev.arbor.api.repair.v1.PropagationRequest;
import dev.arbor.api.repair.v1.PropagationResponse;
import dev.arbor.api.repair.v1.RoundOutcome;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.api.repair.v1.TraceContext;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.PeerChannels;
import dev.arbor.cluster.Placement;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.observability.trace.RepairSpan;
import dev.arbor.observability.trace.Tracer;
import dev.arbor.property.HybridClock;
import dev.arbor.repair.GrpcGossipPeers;
import dev.arbor.repair.RepairRounds;
import dev.arbor.repair.RoundObserver;
import dev.arbor.transport.BareServers;
import io.grpc.Server;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Simulated data nodes of the gossip layer in one JVM. Each node has its own queue (with a clock
 * the test moves), worker, {@link GossipGrpcService} served by a real Netty gRPC server on
 * loopback, and {@link RepairRounds} (origin side). Membership is a shared map id → address: a
 * node missing from it is "not registered". Gossip calls (Propagate, Report) go over real gRPC
 * through {@link GrpcGossipPeers}; the per-hop two-node session is the shared
 * {@link RecordingHopRunner}. Every span of every node goes into {@link #spans}.
 */
final class GossipTestCluster implements AutoCloseable {
  static final Duration LONG_TTL = Duration.ofHours(1);

  final Map<String, String> registered = new ConcurrentHashMap<>();
  final List<RepairSpan> spans = new CopyOnWriteArrayList<>();
  final RecordingHopRunner runner = new RecordingHopRunner();
  final Map<String, Node> nodes = new LinkedHashMap<>();
  final EmbeddedMetadataStore metadata;
  /** Whether Propagate refuses groups and shards metadata does not know (as data nodes do). */
  volatile boolean checkGroups;
  final PeerChannels channels = new PeerChannels(16 << 20);
  final Supplier<List<DataNode>> dataNodes =
      () -> registered.entrySet().stream().map(e -> DataNode.of(e.getKey(), e.getValue())).toList();
  final GrpcGossipPeers peers = new GrpcGossipPeers(dataNodes, channels, Duration.ofSeconds(10));
  private final Duration ttl;

  /** One simulated node. */
  final class Node {
    final String id;
    final AtomicLong clockNanos = new AtomicLong();
    final PropagationQueue queue;
    final PropagationWorker worker;
    final GossipGrpcService service;
    final RepairRounds rounds;
    /** Every report this node received as a round's origin (locally or over gRPC). */
    final List<RoundReport> reports = new CopyOnWriteArrayList<>();
    final Map<PropagationQueue.Decision, AtomicInteger> decisions =
        new EnumMap<>(PropagationQueue.Decision.class);
    final Server server;

    Node(String id) throws IOException {
      this.id = id;
      for (PropagationQueue.Decision d : PropagationQueue.Decision.values()) {
        decisions.put(d, new AtomicInteger());
      }
      Tracer tracer = new Tracer(id, spans::add);
      GossipObserver observer = new GossipObserver() {
        @Override
        public void received(String group, PropagationQueue.Decision decision) {
          decisions.get(decision).incrementAndGet();
        }
      };
      queue = new PropagationQueue(ttl, clockNanos::get);
      RepairRounds[] roundsRef = new RepairRounds[1];
      java.util.function.Consumer<RoundReport> sink = r -> {
        reports.add(r);
        RepairRounds rr = roundsRef[0];
        if (rr != null) {
          rr.onReport(r);
        }
      };
      worker = new PropagationWorker(id, queue, runner.forClient(id), peers, tracer, observer, sink,
          Duration.ofSeconds(30));
      service = new GossipGrpcService(id, queue, worker, tracer, observer, sink,
          (group, shard) -> !checkGroups ? null : dev.arbor.repair.sync.ShardCheck.refusal(group, shard,
              metadata.group(group).map(g -> java.util.OptionalInt.of(g.getResourceOpts().getShardNum()))
                  .orElseGet(java.util.OptionalInt::empty)));
      rounds = new RepairRounds(id, metadata, dataNodes, service::offer, peers, tracer, RoundObserver.NONE,
          Duration.ofSeconds(60));
      roundsRef[0] = rounds;
      server = BareServers.start("127.0.0.1", 0, service);
      registered.put(id, "127.0.0.1:" + server.getPort());
      worker.start();
    }

    String address() {
      return "127.0.0.1:" + server.getPort();
    }

    int decided(PropagationQueue.Decision d) {
      return decisions.get(d).get();
    }

    /** Advances this node's queue clock. */
    void advance(Duration d) {
      clockNanos.addAndGet(d.toNanos());
    }

    /** Outcomes of {@code roundId} this node received as origin. */
    List<RoundOutcome> outcomes(String roundId) {
      return reports.stream().filter(r -> r.getRoundId().equals(roundId) && r.hasOutcome())
          .map(RoundReport::getOutcome).toList();
    }

    /** Waits for the (first) outcome of {@code roundId} at this origin. */
    RoundOutcome awaitOutcome(String roundId) {
      await().atMost(Duration.ofSeconds(20)).until(() -> !outcomes(roundId).isEmpty());
      return outcomes(roundId).get(0);
    }

    /** Hop reports of {@code roundId} this node received as origin, in arrival order. */
    List<RoundReport> hops(String roundId) {
      return reports.stream().filter(r -> r.getRoundId().equals(roundId) && r.hasHop()).toList();
    }

    void stopServer() throws InterruptedException {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    void close() throws InterruptedException {
      worker.close();
      rounds.close();
      stopServer();
    }
  }

  GossipTestCluster(Path dir, Duration ttl, String... ids) throws IOException {
    this.ttl = ttl;
    this.metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
    for (String id : ids) {
      nodes.put(id, new Node(id));
    }
  }

  GossipTestCluster(Path dir, String... ids) throws IOException {
    this(dir, LONG_TTL, ids);
  }

  Node node(String id) {
    return nodes.get(id);
  }

  /** A property group with {@code replicas} extra copies. */
  void group(String name, int shards, int replicas) {
    metadata.createGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName(name))
        .setCatalog(Catalog.CATALOG_PROPERTY)
        .setResourceOpts(ResourceOpts.newBuilder().setShardNum(shards).setReplicas(replicas)).build());
  }

  /** The ring RepairRounds computes for (group, shard): placement order of the registered nodes. */
  List<String> ring(String group, int shard, int copies) {
    return Placement.of(dataNodes.get()).place(group, shard, copies).stream().map(n -> n.id().value()).toList();
  }

  /**
   * A request as an origin would build it (max = 2n−3, count 0, deadline in a minute), with a
   * trace of its own.
   */
  static PropagationRequest request(String origin, String roundId, String group, int shard, List<String> ring) {
    return request(origin, roundId, group, shard, ring, System.currentTimeMillis() + 60_000);
  }

  static PropagationRequest request(String origin, String roundId, String group, int shard, List<String> ring,
      long deadlineUnixMs) {
    return PropagationRequest.newBuilder()
        .setContext(PropagationContext.newBuilder().addAllNodes(ring).setMaxPropagationCount(2 * ring.size() - 3)
            .setCurrentPropagationCount(0).setOriginNode(origin).setRoundId(roundId)
            .setDeadlineUnixMs(deadlineUnixMs))
        .setTrace(TraceContext.newBuilder().setTraceId("trace-" + roundId))
        .setGroup(group).setShard(shard).build();
  }

  /** Calls Propagate on {@code to} over gRPC, as a forwarding node or an origin does. */
  PropagationResponse propagate(String to, PropagationRequest request) {
    return GossipServiceGrpc.newBlockingStub(channels.channel(node(to).address()))
        .withDeadlineAfter(10, TimeUnit.SECONDS).propagate(request);
  }

  /** Collects a round's events from its origin until the outcome (the last element). */
  static List<RoundReport> events(RepairRounds.Round round) throws InterruptedException {
    List<RoundReport> out = new ArrayList<>();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < end) {
      RoundReport r = round.next(Duration.ofMillis(200));
      if (r != null) {
        out.add(r);
        if (r.hasOutcome()) {
          return out;
        }
      }
    }
    throw new AssertionError("round " + round.id() + " reported no outcome within 20 s; events so far: " + out);
  }

  List<RepairSpan> spans(String traceId) {
    return spans.stream().filter(s -> s.traceId().equals(traceId)).toList();
  }

  @Override
  public void close() throws InterruptedException {
    for (Node n : nodes.values()) {
      n.close();
    }
    channels.close();
    metadata.close();
  }
}
