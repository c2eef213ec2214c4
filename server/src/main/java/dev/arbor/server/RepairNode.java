package dev.arbor.server;

import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.PeerChannels;
import dev.arbor.metadata.MetadataGroupIncarnations;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.NodeRegistry;
import dev.arbor.observability.RepairMetrics;
import dev.arbor.observability.trace.SpanStore;
import dev.arbor.observability.trace.TraceHttpHandler;
import dev.arbor.observability.trace.TraceQuery;
import dev.arbor.observability.trace.Tracer;
import dev.arbor.repair.GrpcGossipPeers;
import dev.arbor.repair.RepairAdminGrpcService;
import dev.arbor.repair.RepairRounds;
import dev.arbor.repair.RepairTrigger;
import dev.arbor.repair.gossip.GossipGrpcService;
import dev.arbor.repair.gossip.PropagationQueue;
import dev.arbor.repair.gossip.PropagationWorker;
import dev.arbor.repair.sync.RepairGrpcService;
import dev.arbor.repair.sync.RepairSessionClient;
import dev.arbor.repair.sync.ShardCheck;
import dev.arbor.repair.coverage.CoverageAnnouncer;
import dev.arbor.repair.coverage.CoverageGrpcService;
import dev.arbor.repair.coverage.CoverageMonitor;
import dev.arbor.repair.coverage.CoveragePurgeCutoff;
import dev.arbor.repair.coverage.ReplicaRings;
import dev.arbor.repair.coverage.WatermarkStore;
import dev.arbor.property.RevisionBound;
import dev.arbor.runtime.NodeRuntime;
import dev.arbor.runtime.Scheduler;
import dev.arbor.runtime.WallClock;
import dev.arbor.storage.IncarnationGate;
import dev.arbor.repair.tree.BuildSchedule;
import dev.arbor.storage.PurgeCutoff;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.grpc.BindableService;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.LongSupplier;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The background repair of a data node, wired: the repair stream server and client, the gossip
 * queue, worker and service, rounds it originates, the trigger, trace spans and metrics. Built
 * by {@link DataNodeServer}; {@link #services()} go on the node's internal listener,
 * {@link #adminServices()} on its admin listener.
 */
final class RepairNode implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RepairNode.class);
  private static final int MAX_MESSAGE = 64 << 20;
  /** How long a session waits for a build of its shard that another task is running. */
  private static final Duration TREE_WAIT = Duration.ofMinutes(2);
  /** How long a session waits for this node's metadata to show the incarnation its peer holds. */
  private static final Duration METADATA_LAG = Duration.ofSeconds(2);
  private static final Duration REPLY_TIMEOUT = Duration.ofMinutes(2);
  private static final Duration GOSSIP_CALL_TIMEOUT = Duration.ofSeconds(10);

  private final SpanStore spans;
  private final PeerChannels channels;
  private final PropagationWorker worker;
  private final RepairRounds rounds;
  private final TraceQuery traceQuery;
  private final RepairTrigger trigger;
  private final List<BindableService> services;
  private final List<BindableService> adminServices;
  private final WatermarkStore watermarks;
  private final CoverageAnnouncer announcer;
  private final CoverageMonitor monitor;
  private final PurgeCutoff purge;
  private final Duration grace;

  private final Scheduler sessionTimers;
  private final WallClock wallClock;

  private RepairNode(SpanStore spans, PeerChannels channels, PropagationWorker worker, RepairRounds rounds,
      TraceQuery traceQuery, RepairTrigger trigger, List<BindableService> services,
      List<BindableService> adminServices, WatermarkStore watermarks,
      CoverageAnnouncer announcer, CoverageMonitor monitor, PurgeCutoff purge, Duration grace,
      Scheduler sessionTimers, WallClock wallClock) {
    this.wallClock = wallClock;
    this.sessionTimers = sessionTimers;
    this.watermarks = watermarks;
    this.announcer = announcer;
    this.monitor = monitor;
    this.purge = purge;
    this.grace = grace;
    this.spans = spans;
    this.channels = channels;
    this.worker = worker;
    this.rounds = rounds;
    this.traceQuery = traceQuery;
    this.trigger = trigger;
    this.services = services;
    this.adminServices = adminServices;
  }

  /** @param fence copies of this node that take no part in repair (orphans being handed off) */
  static RepairNode create(NodeRuntime runtime, String nodeId, ServerConfig config, StorageNode storage,
      MetadataStore metadata, NodeRegistry registry, MeterRegistry meters, dev.arbor.storage.CopyFence fence,
      dev.arbor.transport.ChannelFactory internalChannels) {
    RepairConfig rc = config.repair();
    SpanStore spans = new SpanStore(runtime, config.dataDir().resolve("traces"),
        dev.arbor.observability.trace.SpanStoreSettings.withRetention(rc.traceRetention()));
    try {
      FunctionCounter.builder("arbor.repair.trace.spans.dropped", spans, SpanStore::droppedCount)
          .description("repair spans dropped because the buffer was full").register(meters);
      Tracer tracer = new Tracer(nodeId, spans, runtime.wallClock());
      RepairMetrics metrics = new RepairMetrics(meters, runtime.wallClock()::millis);
      PeerChannels channels = new PeerChannels(internalChannels, MAX_MESSAGE);
      Supplier<List<DataNode>> dataNodes = () -> registry.nodes().stream().filter(n -> n.hasRole("data"))
          .map(n -> DataNode.of(n.id(), n.grpcAddress())).toList();
      var rebuild = (java.util.function.BiConsumer<String, Integer>) storage.treeScheduler()::submit;
      ShardCheck counts = new ShardCheck() {
        @Override
        public OptionalInt shardNum(String group) {
          return metadata.group(group).map(g -> OptionalInt.of(g.getResourceOpts().getShardNum()))
              .orElseGet(OptionalInt::empty);
        }

        @Override
        public String copyRefusal(String group, int shard) {
          return fence.refusal(group, shard);
        }
      };
      ShardCheck shardCheck = counts.bounded(RevisionBound.of(runtime.wallClock()::nanos, rc.maxClockSkew()));
      IncarnationGate incarnations = new IncarnationGate(storage.store(),
          new MetadataGroupIncarnations(metadata), METADATA_LAG);
      Scheduler sessionTimers = runtime.newScheduler("arbor-repair-session-timers");
      dev.arbor.repair.sync.SessionGate gate =
          new dev.arbor.repair.sync.SessionGate(rc.maxSessions(), rc.sessionIdleTimeout(), sessionTimers);
      FunctionCounter.builder("arbor.repair.sessions.refused", gate, dev.arbor.repair.sync.SessionGate::refused)
          .description("repair sessions refused because --repair-max-sessions were being served").register(meters);
      FunctionCounter.builder("arbor.repair.sessions.idle.ended", gate, dev.arbor.repair.sync.SessionGate::idled)
          .description("served repair sessions ended because nothing moved for --repair-session-idle-timeout")
          .register(meters);
      RepairGrpcService repairService = new RepairGrpcService(storage.store(), storage.trees(), shardCheck,
          incarnations, TREE_WAIT, tracer, metrics, rebuild, gate, rc.bulk());
      RepairSessionClient client = new RepairSessionClient(nodeId, storage.store(), storage.trees(), shardCheck,
          incarnations, TREE_WAIT, REPLY_TIMEOUT, metrics, rebuild, rc.bulk(),
          dev.arbor.repair.sync.SessionProtocols.DEFAULTS, runtime.ticker());
      GrpcGossipPeers peers = new GrpcGossipPeers(dataNodes, channels, GOSSIP_CALL_TIMEOUT);
      Duration grace = config.tombstoneGrace();
      LongSupplier wallNanos = runtime.wallClock()::nanos;
      ReplicaRings rings = new ReplicaRings(metadata, dataNodes);
      WatermarkStore watermarks = WatermarkStore.open(config.dataDir().resolve("coverage").resolve("watermarks.txt"));
      CoverageGrpcService coverage = new CoverageGrpcService(nodeId, rings, watermarks, wallNanos, rc.maxClockSkew());
      CoverageAnnouncer announcer = new CoverageAnnouncer(runtime, nodeId, peers::address, channels, coverage::accept,
          GOSSIP_CALL_TIMEOUT);
      PropagationQueue queue = new PropagationQueue(rc.coalesceTtl(), runtime.ticker()::read);
      // Rounds and the worker refer to each other (reports of own rounds; local hand-over).
      AtomicReference<RepairRounds> roundsRef = new AtomicReference<>();
      Consumer<RoundReport> reports = r -> {
        RepairRounds rr = roundsRef.get();
        if (rr != null) {
          rr.onReport(r);
        }
      };
      PropagationWorker worker = new PropagationWorker(runtime, nodeId, queue,
          (peer, address, group, shard, trace, deadline) ->
              client.run(channels.channel(address), peer, group, shard, trace, deadline),
          peers, tracer, metrics, reports, rc.sessionTimeout(), rc.workers());
      GossipGrpcService gossip = new GossipGrpcService(nodeId, queue, worker, tracer, metrics, reports,
          shardCheck::refuse);
      RepairRounds rounds = new RepairRounds(runtime, nodeId, metadata, dataNodes, gossip::offer, peers, tracer, metrics,
          rc.roundTimeout(), announcer);
      roundsRef.set(rounds);
      TraceQuery traceQuery = new TraceQuery(nodeId, spans, dataNodes, TraceQuery.DEFAULT_PEER_DEADLINE, internalChannels);
      RepairTrigger trigger = rc.scheduled()
          ? new RepairTrigger(runtime, nodeId, BuildSchedule.parse(rc.schedule()), rings, watermarks, rounds,
              rc.workers(), grace)
          : null;
      CoverageMonitor monitor = new CoverageMonitor(runtime, nodeId, rings, watermarks, metrics, grace);
      PurgeCutoff purge = new CoveragePurgeCutoff(rings, watermarks, wallNanos, grace,
          rc.maxClockSkew());
      RepairAdminGrpcService admin = new RepairAdminGrpcService(rounds, traceQuery);
      // Peers ask each other for trace spans (a cluster-wide trace query). Members may start
      // rounds (a liaison's console, after checking its user is an admin); operators start them
      // on the admin listener.
      List<BindableService> internal = List.of(repairService, gossip, coverage,
          dev.arbor.transport.MethodSubset.of(admin, java.util.Set.of(
              dev.arbor.api.repair.v1.RepairAdminServiceGrpc.getTracesMethod().getFullMethodName(),
              // A liaison's web console starts rounds here for its admin users.
              dev.arbor.api.repair.v1.RepairAdminServiceGrpc.getRunRepairMethod().getFullMethodName())));
      return new RepairNode(spans, channels, worker, rounds, traceQuery, trigger, internal, List.of(admin),
          watermarks, announcer,
          monitor, purge, grace, sessionTimers, runtime.wallClock());
    } catch (RuntimeException e) {
      spans.close();
      throw e;
    }
  }

  /** What peers call: served on the internal listener. */
  List<BindableService> services() {
    return services;
  }

  /** What operators call ({@code arbor repair run}, {@code arbor repair traces}): the admin listener. */
  List<BindableService> adminServices() {
    return adminServices;
  }

  TraceHttpHandler traceHttpHandler() {
    return new TraceHttpHandler(traceQuery, wallClock);
  }

  TraceQuery traceQuery() {
    return traceQuery;
  }

  RepairRounds rounds() {
    return rounds;
  }

  WatermarkStore watermarks() {
    return watermarks;
  }

  /** Which tombstones of each shard this node may purge (coverage of replicated shards). */
  PurgeCutoff purgeCutoff() {
    return purge;
  }

  void start() {
    worker.start();
    monitor.start(grace);
    if (trigger != null) {
      trigger.start();
    } else {
      LOG.warn("--repair-schedule is off: this node starts no repair round, so tombstones of groups keeping 2+ "
          + "copies are purged only after a round covering every replica of their shard ran (another node's "
          + "schedule, or 'arbor repair run'); without one they are kept forever. Groups keeping one copy still "
          + "purge after --tombstone-grace");
    }
  }

  /** Stops the trigger and the worker (reporting abandoned rounds), then closes clients and spans. */
  @Override
  public void close() {
    if (trigger != null) {
      trigger.close();
    }
    monitor.close();
    worker.close();
    rounds.close();
    announcer.close();
    traceQuery.close();
    sessionTimers.close();
    channels.close();
    spans.close();
  }
}
