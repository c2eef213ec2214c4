package dev.arbor.repair;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.repair.v1.HopResult;
import dev.arbor.api.repair.v1.PropagationContext;
import dev.arbor.api.repair.v1.PropagationRequest;
import dev.arbor.api.repair.v1.PropagationResponse;
import dev.arbor.api.repair.v1.RoundOutcome;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.api.repair.v1.TraceContext;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.Placement;
import dev.arbor.errors.FailedPreconditionException;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.observability.trace.Tracer;
import dev.arbor.repair.coverage.CoverageListener;
import dev.arbor.repair.coverage.RoundCoverage;
import dev.arbor.repair.gossip.GossipPeers;
import dev.arbor.repair.gossip.RoundOutcomes;
import dev.arbor.runtime.NodeRuntime;
import dev.arbor.runtime.Scheduler;
import dev.arbor.transport.PeerFutures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rounds this node originates: checks the request, computes the ring (placement order of the
 * shard's registered replicas), hands the round to its first reachable node, and collects the
 * hop reports and the outcome that nodes send back. A round that reports nothing by its deadline
 * (plus a grace for the last report) ends ABORTED, so whoever waits on it is never left hanging.
 */
public final class RepairRounds implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RepairRounds.class);
  private static final Duration REPORT_GRACE = Duration.ofSeconds(10);

  private final String self;
  private final MetadataStore metadata;
  private final Supplier<List<DataNode>> dataNodes;
  private final Function<PropagationRequest, PropagationResponse> localOffer;
  private final GossipPeers peers;
  private final Tracer tracer;
  private final RoundObserver observer;
  private final Duration defaultTimeout;
  private final CoverageListener coverage;
  private final Map<String, Round> rounds = new ConcurrentHashMap<>();
  private final NodeRuntime runtime;
  private final Scheduler timer;
  private final java.util.concurrent.atomic.AtomicLong startedRounds = new java.util.concurrent.atomic.AtomicLong();

  /**
   * @param localOffer queues a round on this node's own gossip worker
   * @param defaultTimeout a round's deadline when the caller gives none
   */
  public RepairRounds(String self, MetadataStore metadata, Supplier<List<DataNode>> dataNodes,
      Function<PropagationRequest, PropagationResponse> localOffer, GossipPeers peers, Tracer tracer,
      RoundObserver observer, Duration defaultTimeout) {
    this(self, metadata, dataNodes, localOffer, peers, tracer, observer, defaultTimeout, CoverageListener.NONE);
  }

  /** On the system runtime (tests); a node passes its own. */
  public RepairRounds(String self, MetadataStore metadata, Supplier<List<DataNode>> dataNodes,
      Function<PropagationRequest, PropagationResponse> localOffer, GossipPeers peers, Tracer tracer,
      RoundObserver observer, Duration defaultTimeout, CoverageListener coverage) {
    this(NodeRuntime.system(), self, metadata, dataNodes, localOffer, peers, tracer, observer, defaultTimeout,
        coverage);
  }

  /**
   * @param runtime the node's clocks and the timer that aborts rounds past their deadline
   * @param coverage hears the rounds that covered their whole ring (the ring's coverage watermark)
   */
  public RepairRounds(NodeRuntime runtime, String self, MetadataStore metadata, Supplier<List<DataNode>> dataNodes,
      Function<PropagationRequest, PropagationResponse> localOffer, GossipPeers peers, Tracer tracer,
      RoundObserver observer, Duration defaultTimeout, CoverageListener coverage) {
    this.runtime = runtime;
    this.timer = runtime.newScheduler("arbor-repair-rounds");
    this.coverage = coverage;
    this.self = self;
    this.metadata = metadata;
    this.dataNodes = dataNodes;
    this.localOffer = localOffer;
    this.peers = peers;
    this.tracer = tracer;
    this.observer = observer;
    this.defaultTimeout = defaultTimeout;
  }

  public Duration defaultTimeout() {
    return defaultTimeout;
  }

  /** A started round: its ring, the reports as they arrive, and its end. */
  public static final class Round {
    private final String id;
    private final String group;
    private final int shard;
    private final List<String> nodes;
    private final long startNanos;
    /** Wall clock (ns since the epoch) when the round started: its coverage watermark. */
    private final long startUnixNanos;
    private final List<HopResult> hops = java.util.Collections.synchronizedList(new ArrayList<>());
    private final CompletableFuture<RoundOutcome> outcome = new CompletableFuture<>();
    private final BlockingQueue<RoundReport> events = new LinkedBlockingQueue<>();
    /** A report {@link #await} took early; {@link #next} returns it first. */
    private final java.util.Queue<RoundReport> pushBack = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final AtomicBoolean ended = new AtomicBoolean();
    private Tracer.Span span;

    Round(String id, String group, int shard, List<String> nodes, long startNanos, long startUnixNanos) {
      this.id = id;
      this.group = group;
      this.shard = shard;
      this.nodes = nodes;
      this.startNanos = startNanos;
      this.startUnixNanos = startUnixNanos;
    }

    /** Completes with the round's outcome, whoever else reads its reports. */
    public CompletableFuture<RoundOutcome> outcome() {
      return outcome;
    }

    public String id() {
      return id;
    }

    public String group() {
      return group;
    }

    public int shard() {
      return shard;
    }

    public List<String> nodes() {
      return nodes;
    }

    /** Waits up to {@code wait} for a report to be queued (without taking it). */
    public void await(Duration wait) throws InterruptedException {
      RoundReport r = events.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
      if (r != null) {
        pushBack.add(r);
      }
    }

    /** The next report (hops, then one carrying the outcome), or null after {@code wait}. */
    public RoundReport next(Duration wait) throws InterruptedException {
      RoundReport r = pushBack.poll();
      return r != null ? r : events.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** The number of shards of a group that can be repaired (validates the group). */
  public int shardCount(String group) {
    return repairable(group).getResourceOpts().getShardNum();
  }

  private Group repairable(String group) {
    if (group == null || group.isEmpty()) {
      throw new InvalidArgumentException("group must not be empty");
    }
    Group g = metadata.group(group).orElseThrow(() -> new NotFoundException("group " + group + " not found"));
    if (g.getCatalog() != Catalog.CATALOG_PROPERTY) {
      throw new InvalidArgumentException("group " + group + " is not a property group");
    }
    int copies = Placement.copies(g.getResourceOpts().getReplicas());
    if (copies < 2) {
      throw new FailedPreconditionException("group " + group + " keeps a single copy (replicas = "
          + g.getResourceOpts().getReplicas() + "): there is nothing to repair");
    }
    return g;
  }

  /**
   * Starts a round over (group, shard).
   *
   * @param timeout the round's deadline from now (null or zero: the default)
   * @param trigger "manual" or "schedule" (metrics)
   */
  public Round start(String group, int shard, Duration timeout, String trigger) {
    Group g = repairable(group);
    int shards = g.getResourceOpts().getShardNum();
    if (shard < 0 || shard >= shards) {
      throw new InvalidArgumentException("shard " + Integer.toUnsignedString(shard) + " is out of range: group " + group + " has " + shards
          + " shard(s)");
    }
    List<DataNode> placed = Placement.of(dataNodes.get())
        .placeCapped(group, shard, Placement.copies(g.getResourceOpts().getReplicas()));
    List<String> nodes = placed.stream().map(n -> n.id().value()).toList();
    if (nodes.size() < 2) {
      throw new FailedPreconditionException("shard " + group + "/" + shard + " has " + nodes.size()
          + " registered replica node(s); a repair needs at least 2");
    }
    Duration t = timeout == null || timeout.isZero() || timeout.isNegative() ? defaultTimeout : timeout;
    long now = runtime.wallClock().nanos();
    // The sequence keeps ids unique when rounds of several shards start within one clock tick
    // (the trigger starts them in a loop): a reused id replaced the first round in the map, and
    // that round then never ended — found by the deterministic simulation.
    String id = self + "-" + now + "-" + startedRounds.incrementAndGet();
    Round round = new Round(id, group, shard, nodes, runtime.ticker().read(), now);
    String traceId = group + "_" + shard + "_" + self + "_" + now;
    round.span = tracer.start(traceId, "", "repair round", group, shard, 0)
        .tag("round_id", id).tag("nodes", String.join(",", nodes)).tag("trigger", trigger);
    rounds.put(id, round);
    observer.roundStarted(group, shard, trigger);
    PropagationRequest req = PropagationRequest.newBuilder()
        .setContext(PropagationContext.newBuilder().addAllNodes(nodes)
            .setMaxPropagationCount(2 * nodes.size() - 3).setCurrentPropagationCount(0).setOriginNode(self)
            .setRoundId(id).setDeadlineUnixMs(Math.floorDiv(now, 1_000_000L) + t.toMillis()))
        .setTrace(TraceContext.newBuilder().setTraceId(traceId).setParentSpanId(round.span.spanId()))
        .setGroup(group).setShard(shard).build();
    timer.schedule(() -> finish(round, RoundOutcomes.of(RoundOutcomes.ABORTED,
        "no outcome reported within the round deadline of " + t, 0, 2 * nodes.size() - 3, self)),
        t.plus(REPORT_GRACE));
    hand(round, req);
    return round;
  }

  /** Gives the round to the first node of the ring that takes it (a down node is passed over). */
  private void hand(Round round, PropagationRequest req) {
    List<String> problems = new ArrayList<>();
    for (String node : round.nodes) {
      try {
        PropagationResponse resp;
        if (node.equals(self)) {
          resp = localOffer.apply(req);
        } else {
          Optional<String> addr = peers.address(node);
          if (addr.isEmpty()) {
            problems.add(node + ": not registered");
            continue;
          }
          resp = PeerFutures.await(peers.propagate(addr.get(), req));
        }
        if (!resp.getAccepted()) {
          finish(round, RoundOutcomes.of(RoundOutcomes.SKIPPED, resp.getReason(), 0,
              req.getContext().getMaxPropagationCount(), node));
        }
        return;
      } catch (RuntimeException e) {
        problems.add(node + ": " + e.getMessage());
      }
    }
    finish(round, RoundOutcomes.of(RoundOutcomes.FAILED, "no node of the ring took the round: "
        + String.join("; ", problems), 0, req.getContext().getMaxPropagationCount(), self));
  }

  /** A report from the node where a hop ran or the round ended. */
  public void onReport(RoundReport r) {
    Round round = rounds.get(r.getRoundId());
    if (round == null) {
      LOG.debug("report for unknown or finished round {}", r.getRoundId());
      return;
    }
    if (r.hasHop()) {
      observer.hopReported(round.group, round.shard, r.getHop());
      round.hops.add(r.getHop());
      round.events.add(r.toBuilder().clearOutcome().build());
    }
    if (r.hasOutcome()) {
      finish(round, r.getOutcome());
    }
  }

  private void finish(Round round, RoundOutcome outcome) {
    if (!round.ended.compareAndSet(false, true)) {
      return;
    }
    rounds.remove(round.id);
    round.span.tag("outcome", outcome.getStatus()).tag("propagation_count", outcome.getPropagationCount());
    if (RoundOutcomes.COMPLETED.equals(outcome.getStatus())) {
      round.span.end();
    } else {
      round.span.fail(outcome.getMessage());
    }
    LOG.info("repair round {} of {}/{} ended {}: {}", round.id, round.group, round.shard, outcome.getStatus(),
        outcome.getMessage());
    observer.roundFinished(round.group, round.shard, outcome, runtime.ticker().read() - round.startNanos);
    if (RoundCoverage.covered(round.nodes, outcome, List.copyOf(round.hops))) {
      coverage.covered(round.group, round.shard, round.startUnixNanos, round.id, round.nodes);
    } else if (RoundOutcomes.COMPLETED.equals(outcome.getStatus())) {
      LOG.info("repair round {} of {}/{} completed without covering every replica of {} (a node was skipped or "
          + "a hop report lost): it does not allow purging the shard's tombstones", round.id, round.group,
          round.shard, round.nodes);
    }
    round.events.add(RoundReport.newBuilder().setRoundId(round.id).setGroup(round.group).setShard(round.shard)
        .setOutcome(outcome).build());
    round.outcome.complete(outcome);
  }

  @Override
  public void close() {
    timer.close();
    for (Round r : List.copyOf(rounds.values())) {
      finish(r, RoundOutcomes.of(RoundOutcomes.ABORTED, "origin node " + self + " is shutting down", 0, 0, self));
    }
  }
}
