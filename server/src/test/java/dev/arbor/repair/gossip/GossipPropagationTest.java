package dev.arbor.repair.gossip;

import static dev.arbor.repair.gossip.GossipTestCluster.events;
import static dev.arbor.repair.gossip.GossipTestCluster.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.repair.v1.HopResult;
import dev.arbor.api.repair.v1.RoundOutcome;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.errors.FailedPreconditionException;
import dev.arbor.observability.trace.RepairSpan;
import dev.arbor.repair.RepairRounds;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gossip protocol of spec §7 (§11.2 scenarios 26–31, plus the round deadline, a forwarding
 * failure and the trace), over real gRPC on loopback between simulated nodes: every node serves
 * its own {@link GossipGrpcService} on a Netty server, Propagate and Report go through
 * {@code GrpcGossipPeers}, rounds are started by the real {@code RepairRounds} or by a
 * hand-built request where the scenario needs a particular ring.
 *
 * <p>The two-node session of each hop is a {@link RecordingHopRunner}: the session itself is
 * covered by {@code RepairRoundTest} over real data nodes; this fake isolates the gossip protocol
 * and lets a test fail, block or slow one hop deterministically (faults real sessions cannot be
 * made to produce on demand).
 */
class GossipPropagationTest {
  @TempDir Path dir;

  // ---- 26: a ring of one node is refused ------------------------------------------------------

  @Test
  void scenario26_oneNodeRingIsRefusedByTheOriginAndByPropagate() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2")) {
      c.group("single", 1, 0);
      c.group("g", 1, 1);
      RepairRounds n1 = c.node("n1").rounds;
      assertThatThrownBy(() -> n1.start("single", 0, null, "manual"))
          .isInstanceOf(FailedPreconditionException.class).hasMessageContaining("single copy");
      // Two copies wanted but only one node registered: the ring would have one node.
      c.registered.remove("n2");
      assertThatThrownBy(() -> n1.start("g", 0, null, "manual"))
          .isInstanceOf(FailedPreconditionException.class).hasMessageContaining("at least 2");

      assertThatThrownBy(() -> c.propagate("n1", request("n2", "r1", "g", 0, List.of("n1"))))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT))
          .hasMessageContaining("at least 2 distinct");
      // §7.8 HAZARD: a repeated node is not a second node.
      assertThatThrownBy(() -> c.propagate("n1", request("n2", "r2", "g", 0, List.of("n1", "n1"))))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
      assertThat(c.node("n1").queue.pending()).isZero();
      assertThat(c.runner.attempts).isEmpty();
    }
  }

  // ---- 27 / 28: two nodes ---------------------------------------------------------------------

  @Test
  void scenario27_twoNodesFromTheFirstSyncOnceAndCompleteAtTheOrigin() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2")) {
      c.group("g", 1, 1);
      List<String> ring = c.ring("g", 0, 2);
      String first = ring.get(0);
      String second = ring.get(1);
      RepairRounds.Round round = c.node(first).rounds.start("g", 0, null, "manual");
      assertThat(round.nodes()).isEqualTo(ring);
      List<RoundReport> ev = events(round);
      RoundOutcome o = ev.get(ev.size() - 1).getOutcome();
      assertThat(o.getStatus()).isEqualTo(RoundOutcomes.COMPLETED);
      assertThat(o.getPropagationCount()).isEqualTo(1);
      assertThat(o.getMaxPropagationCount()).isEqualTo(1);
      assertThat(o.getEndedOnNode()).isEqualTo(first);
      assertThat(ev.subList(0, ev.size() - 1)).singleElement().satisfies(r -> {
        assertThat(r.getHop().getClientNode()).isEqualTo(first);
        assertThat(r.getHop().getServerNode()).isEqualTo(second);
        assertThat(r.getHop().getSuccess()).isTrue();
      });
      assertThat(c.runner.syncPairs()).containsExactly(first + "->" + second);
    }
  }

  @Test
  void scenario28_twoNodesFromTheSecondStartAtTheFirstAndTheSecondNeverSyncs() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2")) {
      c.group("g", 1, 1);
      List<String> ring = c.ring("g", 0, 2);
      String first = ring.get(0);
      String second = ring.get(1);
      RepairRounds.Round round = c.node(second).rounds.start("g", 0, null, "manual");
      List<RoundReport> ev = events(round);
      RoundOutcome o = ev.get(ev.size() - 1).getOutcome();
      assertThat(o.getStatus()).isEqualTo(RoundOutcomes.COMPLETED);
      assertThat(o.getEndedOnNode()).as("the chain starts at nodes[0]").isEqualTo(first);
      assertThat(c.runner.attempts).extracting(RecordingHopRunner.Call::pair).containsExactly(first + "->" + second);
      // The outcome crossed gRPC: the first node reported it to the origin's Report RPC.
      assertThat(c.node(second).outcomes(round.id())).singleElement()
          .extracting(RoundOutcome::getStatus).isEqualTo(RoundOutcomes.COMPLETED);
      assertThat(c.node(first).reports).isEmpty();
      assertThat(c.node(second).decided(PropagationQueue.Decision.ACCEPTED)).as("second node never queued it")
          .isZero();
    }
  }

  // ---- 29: an unknown node in the ring ----------------------------------------------------------

  @Test
  void scenario29_unknownNodeIsSkippedAndTheBudgetOfThreeIsSpentBetweenTheOtherTwo() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2")) {
      List<String> ring = List.of("n1", "n2", "unknown");
      assertThat(c.propagate("n1", request("n2", "r29", "g", 0, ring)).getAccepted()).isTrue();
      RoundOutcome o = c.node("n2").awaitOutcome("r29");
      assertThat(o.getStatus()).isEqualTo(RoundOutcomes.COMPLETED);
      assertThat(o.getPropagationCount()).isEqualTo(3);
      assertThat(o.getMaxPropagationCount()).isEqualTo(3);
      // n1 syncs n2 twice, n2 syncs n1 once (upstream scenario 29).
      assertThat(c.runner.syncPairs()).containsExactly("n1->n2", "n2->n1", "n1->n2");
      assertThat(c.runner.attempts).noneMatch(a -> a.server().equals("unknown"));
      List<HopResult> hops = c.node("n2").hops("r29").stream().map(RoundReport::getHop).toList();
      assertThat(hops).extracting(h -> h.getClientNode() + "->" + h.getServerNode())
          .containsExactly("n1->n2", "n2->n1", "n1->n2");
      // n2's first candidate is "unknown"; n1's second candidate (n1 -> unknown) is never reached.
      assertThat(hops.get(1).getSkippedList()).containsExactly("unknown: not registered");
      assertThat(hops.get(0).getSkippedList()).isEmpty();
      assertThat(hops.get(2).getSkippedList()).isEmpty();
    }
  }

  // ---- 30 / 31: three nodes ---------------------------------------------------------------------

  @Test
  void scenario30_threeNodesSyncAroundTheRingOnceEach() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2", "n3")) {
      c.group("g", 1, 2);
      List<String> r = c.ring("g", 0, 3);
      RepairRounds.Round round = c.node(r.get(0)).rounds.start("g", 0, null, "manual");
      List<RoundReport> ev = events(round);
      RoundOutcome o = ev.get(ev.size() - 1).getOutcome();
      assertThat(o.getStatus()).isEqualTo(RoundOutcomes.COMPLETED);
      assertThat(o.getPropagationCount()).isEqualTo(3);
      assertThat(o.getMaxPropagationCount()).isEqualTo(3);
      assertThat(o.getEndedOnNode()).isEqualTo(r.get(2));
      List<String> expected = List.of(r.get(0) + "->" + r.get(1), r.get(1) + "->" + r.get(2),
          r.get(2) + "->" + r.get(0));
      assertThat(c.runner.syncPairs()).containsExactlyElementsOf(expected);
      assertThat(c.runner.attempts).hasSize(3);
      assertThat(ev.subList(0, 3)).extracting(e -> e.getHop().getClientNode() + "->" + e.getHop().getServerNode())
          .containsExactlyElementsOf(expected);
    }
  }

  @Test
  void scenario31_lastNodeFailingWithEveryPeerEndsTheChainFailedAtTheOrigin() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2", "n3")) {
      c.group("g", 1, 2);
      List<String> r = c.ring("g", 0, 3);
      c.runner.failClient(r.get(2), false);
      RepairRounds.Round round = c.node(r.get(0)).rounds.start("g", 0, null, "manual");
      List<RoundReport> ev = events(round);
      RoundOutcome o = ev.get(ev.size() - 1).getOutcome();
      // Upstream: n1->n2, n2->n3; n3 records nothing; the chain ends.
      assertThat(c.runner.syncPairs()).containsExactly(r.get(0) + "->" + r.get(1), r.get(1) + "->" + r.get(2));
      // §7.4: a non-abort failure moves to the next offset: n3 tries n1, then n2, then gives up.
      assertThat(c.runner.attempts.subList(2, c.runner.attempts.size()))
          .extracting(RecordingHopRunner.Call::pair)
          .containsExactly(r.get(2) + "->" + r.get(0), r.get(2) + "->" + r.get(1));
      assertThat(o.getStatus()).isEqualTo(RoundOutcomes.FAILED);
      assertThat(o.getEndedOnNode()).isEqualTo(r.get(2));
      assertThat(o.getPropagationCount()).as("failures do not spend the budget").isEqualTo(2);
      assertThat(o.getMessage()).contains("no node of the ring", r.get(0), r.get(1));
      assertThat(ev).filteredOn(RoundReport::hasHop).hasSize(3);
      // The last hop is the failed one, naming the peers it tried.
      var failed = ev.stream().filter(RoundReport::hasHop).reduce((a, b) -> b).orElseThrow().getHop();
      assertThat(failed.getSuccess()).isFalse();
      assertThat(failed.getClientNode()).isEqualTo(r.get(2));
      assertThat(failed.getSkippedList()).hasSize(2);
    }
  }

  @Test
  void scenario31_failureWithTheFirstCandidateFallsOverToTheNextOne() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2", "n3")) {
      c.group("g", 1, 2);
      List<String> r = c.ring("g", 0, 3);
      c.runner.failPair(r.get(2), r.get(0), false);
      RepairRounds.Round round = c.node(r.get(0)).rounds.start("g", 0, null, "manual");
      List<RoundReport> ev = events(round);
      RoundOutcome o = ev.get(ev.size() - 1).getOutcome();
      assertThat(o.getStatus()).isEqualTo(RoundOutcomes.COMPLETED);
      assertThat(o.getPropagationCount()).isEqualTo(3);
      assertThat(c.runner.syncPairs()).containsExactly(r.get(0) + "->" + r.get(1), r.get(1) + "->" + r.get(2),
          r.get(2) + "->" + r.get(1));
      HopResult third = ev.get(2).getHop();
      assertThat(third.getServerNode()).isEqualTo(r.get(1));
      assertThat(third.getSkippedList()).singleElement().asString().startsWith(r.get(0) + ": ")
          .contains("failed");
    }
  }

  @Test
  void scenario31_abortingFailureEndsTheRoundFailedAndNothingFurtherSyncs() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2", "n3")) {
      c.group("g", 1, 2);
      List<String> r = c.ring("g", 0, 3);
      c.runner.failClient(r.get(2), true);
      RepairRounds.Round round = c.node(r.get(0)).rounds.start("g", 0, null, "manual");
      List<RoundReport> ev = events(round);
      RoundOutcome o = ev.get(ev.size() - 1).getOutcome();
      assertThat(o.getStatus()).isEqualTo(RoundOutcomes.FAILED);
      assertThat(o.getMessage()).contains("round aborted on " + r.get(2));
      assertThat(o.getPropagationCount()).isEqualTo(2);
      assertThat(c.runner.attempts).extracting(RecordingHopRunner.Call::pair)
          .as("no retry with the next candidate after an aborting failure")
          .containsExactly(r.get(0) + "->" + r.get(1), r.get(1) + "->" + r.get(2), r.get(2) + "->" + r.get(0));
      // The failed hop is reported with the outcome.
      assertThat(ev).filteredOn(RoundReport::hasHop).extracting(e -> e.getHop().getSuccess())
          .containsExactly(true, true, false);
      // Nothing is forwarded or queued after the abort.
      for (GossipTestCluster.Node n : c.nodes.values()) {
        assertThat(n.queue.pending()).isZero();
      }
      assertThat(c.runner.attempts).hasSize(3);
    }
  }

  // ---- round deadline, forwarding failure ------------------------------------------------------

  @Test
  void requestPastItsDeadlineEndsAbortedWithoutSyncing() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2")) {
      long past = System.currentTimeMillis() - 1;
      assertThat(c.propagate("n1", request("n2", "late", "g", 0, List.of("n1", "n2"), past)).getAccepted())
          .isTrue();
      RoundOutcome o = c.node("n2").awaitOutcome("late");
      assertThat(o.getStatus()).isEqualTo(RoundOutcomes.ABORTED);
      assertThat(o.getMessage()).contains("deadline");
      assertThat(o.getEndedOnNode()).isEqualTo("n1");
      assertThat(c.runner.attempts).isEmpty();
    }
  }

  @Test
  void roundDeadlinePassingDuringAHopCutsTheSessionAndNothingIsForwarded() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2", "n3")) {
      // The hop blocks until its session deadline (the round's, 1.5 s away) cuts it.
      RecordingHopRunner.Gate gate = c.runner.block(call -> call.client().equals("n1"));
      long deadline = System.currentTimeMillis() + 1500;
      assertThat(c.propagate("n1", request("n3", "short", "g", 0, List.of("n1", "n2", "n3"), deadline))
          .getAccepted()).isTrue();
      RoundOutcome o = c.node("n3").awaitOutcome("short");
      gate.open();
      // ABORTED (the proto's status for a passed deadline), not FAILED after trying every peer.
      assertThat(o.getStatus()).isEqualTo(RoundOutcomes.ABORTED);
      assertThat(o.getMessage()).contains("deadline");
      assertThat(o.getPropagationCount()).isZero();
      assertThat(c.runner.syncs).isEmpty();
      assertThat(c.runner.attempts).extracting(RecordingHopRunner.Call::pair)
          .as("no further candidate is tried once the round's time is up").containsExactly("n1->n2");
      assertThat(c.node("n3").hops("short")).singleElement()
          .satisfies(r -> assertThat(r.getHop().getSuccess()).isFalse());
    }
  }

  @Test
  void forwardingToAStoppedGossipServerEndsTheRoundFailed() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2", "n3")) {
      // n2 stays registered, but its gossip server is gone.
      c.node("n2").stopServer();
      assertThat(c.propagate("n1", request("n3", "fwd", "g", 0, List.of("n1", "n2", "n3"))).getAccepted())
          .isTrue();
      RoundOutcome o = c.node("n3").awaitOutcome("fwd");
      assertThat(o.getStatus()).isEqualTo(RoundOutcomes.FAILED);
      assertThat(o.getMessage()).contains("forwarding the round to n2 failed");
      assertThat(o.getEndedOnNode()).isEqualTo("n1");
      assertThat(o.getPropagationCount()).as("the hop itself succeeded").isEqualTo(1);
      assertThat(c.runner.syncPairs()).containsExactly("n1->n2");
      assertThat(c.node("n3").hops("fwd")).singleElement()
          .satisfies(r -> assertThat(r.getHop().getServerNode()).isEqualTo("n2"));
      assertThat(c.spans).anySatisfy(s -> {
        assertThat(s.message()).isEqualTo("propagation to next node");
        assertThat(s.error()).isTrue();
      });
    }
  }

  // ---- trace ----------------------------------------------------------------------------------

  @Test
  void spansOfOneRoundShareTheTraceAndHandlingSpansChainAcrossNodes() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2", "n3")) {
      c.group("g", 1, 2);
      List<String> r = c.ring("g", 0, 3);
      RepairRounds.Round round = c.node(r.get(0)).rounds.start("g", 0, null, "manual");
      assertThat(events(round).get(3).getOutcome().getStatus()).isEqualTo(RoundOutcomes.COMPLETED);
      await().atMost(Duration.ofSeconds(10)).until(() -> c.spans.stream()
          .filter(s -> s.message().equals("handling gossip message")).count() == 3
          && c.spans.stream().anyMatch(s -> s.message().equals("repair round")));

      RepairSpan root = c.spans.stream().filter(s -> s.message().equals("repair round")).findFirst().orElseThrow();
      String traceId = root.traceId();
      assertThat(traceId).startsWith("g_0_" + r.get(0) + "_");
      assertThat(root.parentSpanId()).isEmpty();
      assertThat(root.nodeId()).isEqualTo(r.get(0));
      assertThat(c.spans).as("one round, one trace").allMatch(s -> s.traceId().equals(traceId));
      assertThat(c.spans).extracting(RepairSpan::nodeId).contains(r.get(0), r.get(1), r.get(2));

      List<RepairSpan> handling = c.spans.stream().filter(s -> s.message().equals("handling gossip message"))
          .sorted(java.util.Comparator.comparingInt(RepairSpan::sequence)).toList();
      assertThat(handling).extracting(RepairSpan::nodeId).containsExactlyElementsOf(r);
      assertThat(handling).extracting(RepairSpan::sequence).containsExactly(0, 1, 2);
      assertThat(handling.get(0).parentSpanId()).isEqualTo(root.spanId());
      assertThat(handling.get(1).parentSpanId()).isEqualTo(handling.get(0).spanId());
      assertThat(handling.get(2).parentSpanId()).isEqualTo(handling.get(1).spanId());
      assertThat(handling).noneMatch(RepairSpan::error);

      // Each node's sync span hangs under its handling span, and the session gets it as parent.
      List<RepairSpan> syncs = c.spans.stream().filter(s -> s.message().equals("sync properties")).toList();
      assertThat(syncs).hasSize(3);
      for (RepairSpan s : syncs) {
        RepairSpan parent = handling.stream().filter(h -> h.spanId().equals(s.parentSpanId())).findFirst()
            .orElseThrow(() -> new AssertionError("sync span without a handling parent: " + s));
        assertThat(parent.nodeId()).isEqualTo(s.nodeId());
      }
      assertThat(c.runner.syncs).allSatisfy(call -> {
        assertThat(call.trace().getTraceId()).isEqualTo(traceId);
        assertThat(syncs).extracting(RepairSpan::spanId).contains(call.trace().getParentSpanId());
      });
      // Receiving spans continue the sender's context.
      List<RepairSpan> received = c.spans.stream().filter(s -> s.message().equals("receive gossip message"))
          .sorted(java.util.Comparator.comparingInt(RepairSpan::sequence)).toList();
      assertThat(received).extracting(RepairSpan::parentSpanId)
          .containsExactly(root.spanId(), handling.get(0).spanId(), handling.get(1).spanId());
      // Forward spans: two (the last node completes instead of forwarding).
      assertThat(c.spans).filteredOn(s -> s.message().equals("propagation to next node")).hasSize(2)
          .allSatisfy(s -> assertThat(s.tags()).containsKey("target_node"));
    }
  }

  @Test
  void aRoundOfAnUnknownGroupOrShardIsRefusedBeforeItIsQueuedOrCounted() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2")) {
      c.group("g", 1, 1);
      c.checkGroups = true;
      for (var req : List.of(request("n2", "r1", "nope", 0, List.of("n1", "n2")),
          request("n2", "r2", "g", 5, List.of("n1", "n2")))) {
        assertThatThrownBy(() -> c.propagate("n1", req))
            .isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION));
      }
      for (PropagationQueue.Decision d : PropagationQueue.Decision.values()) {
        assertThat(c.node("n1").decided(d)).as("no queue decision (metric) for %s", d).isZero();
      }
    }
  }
}
