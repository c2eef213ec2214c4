package dev.arbor.repair.gossip;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.repair.v1.PropagationContext;
import dev.arbor.api.repair.v1.PropagationRequest;
import dev.arbor.api.repair.v1.PropagationResponse;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.api.repair.v1.TraceContext;
import dev.arbor.observability.trace.RepairSpan;
import dev.arbor.observability.trace.Tracer;
import dev.arbor.repair.sync.SessionFigures;
import dev.arbor.runtime.ManualRuntime;
import dev.arbor.runtime.NodeRuntime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * The gossip queue and worker on a node runtime of virtual time: the coalesce TTL and the round
 * deadline follow the runtime's clocks, not the system's. The virtual wall clock starts years in
 * the past, so a worker still reading the system clock would find every deadline long passed.
 */
class GossipVirtualTimeTest {
  /** 2020-09-13T12:26:40Z. */
  private static final long WALL_START = 1_600_000_000_000_000_000L;
  private final ManualRuntime time = new ManualRuntime(WALL_START);
  private final NodeRuntime runtime = time.nodeRuntime();
  private final List<RepairSpan> spans = new ArrayList<>();
  private final List<RoundReport> reports = new ArrayList<>();
  private final List<String> hopsRun = new ArrayList<>();

  private static PropagationRequest request(String origin, String round, long deadlineUnixMs) {
    return PropagationRequest.newBuilder().setGroup("g").setShard(0)
        .setContext(PropagationContext.newBuilder().addNodes("a").addNodes("b").addNodes("c")
            .setMaxPropagationCount(3).setCurrentPropagationCount(0).setOriginNode(origin).setRoundId(round)
            .setDeadlineUnixMs(deadlineUnixMs))
        .setTrace(TraceContext.newBuilder().setTraceId("trace-" + round))
        .build();
  }

  @Test
  void anotherOriginIsRefusedUntilTheTtlPassesOnTheRuntimeTicker() throws Exception {
    Duration ttl = Duration.ofMinutes(5);
    PropagationQueue queue = new PropagationQueue(ttl, runtime.ticker()::read);
    queue.offer(request("a", "r1", Long.MAX_VALUE));
    assertThat(queue.take(Duration.ZERO)).isPresent(); // being handled: a's claim holds
    time.advance(ttl);
    assertThat(queue.offer(request("b", "x", Long.MAX_VALUE)).decision())
        .as("exactly the TTL later a's claim still holds").isEqualTo(PropagationQueue.Decision.REJECTED);
    time.advance(Duration.ofNanos(1));
    PropagationQueue.Offer late = queue.offer(request("b", "y", Long.MAX_VALUE));
    assertThat(late.decision()).isEqualTo(PropagationQueue.Decision.ACCEPTED);
    assertThat(late.currentOrigin()).isEqualTo("b");
  }

  @Test
  void aHopIsRefusedOnceTheRoundDeadlinePassedOnTheRuntimeWallClock() {
    PropagationWorker worker = worker();
    long deadlineMs = runtime.wallClock().millis() + 60_000;
    worker.handle(request("a", "r1", deadlineMs));
    assertThat(hopsRun).as("within the deadline the hop runs").containsExactly("b");
    assertThat(reports).filteredOn(RoundReport::hasHop).hasSize(1);

    time.advance(Duration.ofSeconds(59));
    worker.handle(request("a", "r2", deadlineMs));
    assertThat(hopsRun).containsExactly("b", "b");

    time.advance(Duration.ofSeconds(1));
    worker.handle(request("a", "r3", deadlineMs));
    assertThat(hopsRun).as("no hop after the deadline").containsExactly("b", "b");
    RoundReport last = reports.get(reports.size() - 1);
    assertThat(last.getRoundId()).isEqualTo("r3");
    assertThat(last.getOutcome().getStatus()).isEqualTo(RoundOutcomes.ABORTED);
    assertThat(last.getOutcome().getMessage()).contains("round deadline passed before hop 1");
    // Spans are stamped with the virtual wall clock.
    assertThat(spans).isNotEmpty().allSatisfy(s -> assertThat(s.startNanos())
        .isBetween(WALL_START, WALL_START + Duration.ofMinutes(1).toNanos()));
  }

  private PropagationWorker worker() {
    GossipPeers peers = new GossipPeers() {
      @Override
      public Optional<String> address(String nodeId) {
        return Optional.of(nodeId + ":1");
      }

      @Override
      public CompletableFuture<PropagationResponse> propagate(String address, PropagationRequest request) {
        return CompletableFuture.completedFuture(PropagationResponse.newBuilder().setAccepted(true).build());
      }

      @Override
      public CompletableFuture<Void> report(String address, RoundReport report) {
        throw new AssertionError("the origin is this node: reports stay local");
      }
    };
    HopRunner hops = (peer, address, group, shard, trace, deadline) -> {
      hopsRun.add(peer);
      return new SessionFigures(true, 0, 0, 0, 0, 0, 0, 0);
    };
    return new PropagationWorker(runtime, "a", new PropagationQueue(Duration.ofMinutes(1), runtime.ticker()::read),
        hops, peers, new Tracer("a", spans::add, runtime.wallClock()), GossipObserver.NONE, reports::add,
        Duration.ofSeconds(30), 1);
  }
}
