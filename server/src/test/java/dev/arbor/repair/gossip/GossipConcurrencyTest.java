package dev.arbor.repair.gossip;

import static dev.arbor.repair.gossip.GossipTestCluster.events;
import static dev.arbor.repair.gossip.GossipTestCluster.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.repair.v1.PropagationResponse;
import dev.arbor.api.repair.v1.RoundOutcome;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.repair.RepairRounds;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Concurrent and duplicate rounds, the coalescing queue and shutdown (spec §7.6, §11.2 scenarios
 * 32–37), over real gRPC on loopback between simulated nodes (see {@link GossipTestCluster}).
 *
 * <p>The per-hop two-node session is a {@link RecordingHopRunner} that can block a hop until the
 * test releases it or make every hop slow: that is how a "busy worker" is produced
 * deterministically. The session itself is covered by {@code RepairRoundTest} over real data
 * nodes; this fake isolates the gossip protocol. The coalescing TTL runs on a clock the test
 * moves, so no test depends on wall time.
 */
class GossipConcurrencyTest {
  private static final Duration TINY_TTL = Duration.ofMillis(50);

  @TempDir Path dir;

  @Test
  void scenario32_secondOriginIsSkippedWhileTheFirstRoundRunsAndOnlyTheFirstRunsOnAllNodes() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2", "n3")) {
      c.group("g", 1, 2);
      List<String> r = c.ring("g", 0, 3);
      String a = r.get(0);
      String b = r.get(1);
      RecordingHopRunner.Gate slow = c.runner.block(call -> call.client().equals(a) && call.server().equals(b));
      RepairRounds.Round first = c.node(a).rounds.start("g", 0, null, "manual");
      assertThat(slow.entered().await(20, TimeUnit.SECONDS)).isTrue();

      RepairRounds.Round second = c.node(b).rounds.start("g", 0, null, "manual");
      List<RoundReport> secondEvents = events(second);
      assertThat(secondEvents).singleElement().satisfies(e -> {
        assertThat(e.getOutcome().getStatus()).isEqualTo(RoundOutcomes.SKIPPED);
        assertThat(e.getOutcome().getMessage()).contains("from " + a, "in progress on " + a);
        assertThat(e.getOutcome().getEndedOnNode()).isEqualTo(a);
      });
      assertThat(c.node(a).decided(PropagationQueue.Decision.REJECTED)).isEqualTo(1);

      slow.open();
      List<RoundReport> firstEvents = events(first);
      RoundOutcome o = firstEvents.get(firstEvents.size() - 1).getOutcome();
      assertThat(o.getStatus()).isEqualTo(RoundOutcomes.COMPLETED);
      assertThat(o.getPropagationCount()).isEqualTo(3);
      assertThat(c.runner.syncPairs()).containsExactly(a + "->" + b, b + "->" + r.get(2), r.get(2) + "->" + a);
      assertThat(c.runner.attempts).hasSize(3);
    }
  }

  @Test
  void forwardedRoundRejectedByANodeHeldByAnotherOriginEndsSkippedAtItsOrigin() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2", "n3")) {
      // n2 is handling a round of g/2 from origin n3 (its hop is held): n3 holds g/2 on n2.
      RecordingHopRunner.Gate held = c.runner.block(call -> call.client().equals("n2") && call.shard() == 2);
      assertThat(c.propagate("n2", request("n3", "held", "g", 2, List.of("n2", "n3"))).getAccepted()).isTrue();
      assertThat(held.entered().await(20, TimeUnit.SECONDS)).isTrue();

      // n1's own round of g/2 is taken by n1, which syncs n2 and forwards to n2: n2 refuses it.
      assertThat(c.propagate("n1", request("n1", "mine", "g", 2, List.of("n1", "n2", "n3"))).getAccepted())
          .isTrue();
      RoundOutcome o = c.node("n1").awaitOutcome("mine");
      assertThat(o.getStatus()).isEqualTo(RoundOutcomes.SKIPPED);
      assertThat(o.getMessage()).contains("n2 did not take the round", "from n3");
      assertThat(o.getPropagationCount()).isEqualTo(1);
      assertThat(o.getEndedOnNode()).isEqualTo("n1");
      assertThat(c.runner.syncPairs()).containsExactly("n1->n2");
      assertThat(c.node("n2").decided(PropagationQueue.Decision.REJECTED)).isEqualTo(1);
      held.open();
      assertThat(c.node("n3").awaitOutcome("held").getStatus()).isEqualTo(RoundOutcomes.COMPLETED);
    }
  }

  @Test
  void onceANodeHasDoneItsPartOfARoundAnotherOriginIsTakenAtOnce() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2", "n3")) {
      List<String> ring = List.of("n1", "n2");
      assertThat(c.propagate("n1", request("n2", "first", "g", 0, ring)).getAccepted()).isTrue();
      assertThat(c.node("n2").awaitOutcome("first").getStatus()).isEqualTo(RoundOutcomes.COMPLETED);
      // No TTL has passed, but n1 finished its part: an operator's round from n3 is not turned away.
      assertThat(c.propagate("n1", request("n3", "manual", "g", 0, ring)).getAccepted()).isTrue();
      assertThat(c.node("n3").awaitOutcome("manual").getStatus()).isEqualTo(RoundOutcomes.COMPLETED);
      assertThat(c.node("n1").decided(PropagationQueue.Decision.REJECTED)).isZero();
    }
  }

  @Test
  void scenario33_roundsFromTheSameOriginCoalesceWhileTheWorkerIsBusyAndTheLatestRuns() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2")) {
      List<String> ring = List.of("n1", "n2");
      RecordingHopRunner.Gate busy = c.runner.block(call -> call.shard() == 9);
      assertThat(c.propagate("n1", request("n2", "busy", "g", 9, ring)).getAccepted()).isTrue();
      assertThat(busy.entered().await(20, TimeUnit.SECONDS)).isTrue();

      for (int i = 1; i <= 4; i++) {
        assertThat(c.propagate("n1", request("n2", "round" + i, "g", 0, ring)).getAccepted()).isTrue();
      }
      GossipTestCluster.Node n1 = c.node("n1");
      assertThat(n1.decided(PropagationQueue.Decision.COALESCED)).isEqualTo(3);
      assertThat(n1.decided(PropagationQueue.Decision.ACCEPTED)).isEqualTo(2); // busy + round1
      assertThat(n1.queue.pending()).isEqualTo(1);
      GossipTestCluster.Node origin = c.node("n2");
      for (int i = 1; i <= 3; i++) {
        RoundOutcome o = origin.awaitOutcome("round" + i);
        assertThat(o.getStatus()).isEqualTo(RoundOutcomes.SUPERSEDED);
        assertThat(o.getMessage()).contains("round" + (i + 1));
        assertThat(o.getEndedOnNode()).isEqualTo("n1");
      }

      busy.open();
      assertThat(origin.awaitOutcome("round4").getStatus()).isEqualTo(RoundOutcomes.COMPLETED);
      assertThat(origin.awaitOutcome("busy").getStatus()).isEqualTo(RoundOutcomes.COMPLETED);
      assertThat(c.runner.syncs).filteredOn(s -> s.shard() == 0).hasSize(1);
      for (int i = 1; i <= 4; i++) {
        assertThat(origin.outcomes("round" + i)).as("round%d has exactly one outcome", i).hasSize(1);
      }
      assertThat(origin.hops("round4")).hasSize(1);
      assertThat(origin.hops("round1")).isEmpty();
    }
  }

  @Test
  void scenario34_afterTheTtlAnotherOriginWithNothingPendingIsAcceptedAndHandled() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, TINY_TTL, "n1", "n2", "n3")) {
      List<String> ring = List.of("n1", "n2");
      GossipTestCluster.Node n1 = c.node("n1");
      RecordingHopRunner.Gate held = c.runner.block(call -> call.client().equals("n1") && call.shard() == 0);
      assertThat(c.propagate("n1", request("n2", "a", "g", 0, ring)).getAccepted()).isTrue();
      assertThat(held.entered().await(20, TimeUnit.SECONDS)).isTrue();

      n1.advance(Duration.ofMillis(10));
      PropagationResponse within = c.propagate("n1", request("n3", "b", "g", 0, ring));
      assertThat(within.getAccepted()).isFalse();
      assertThat(within.getReason()).contains("from n2");

      n1.advance(TINY_TTL);
      assertThat(c.propagate("n1", request("n3", "c", "g", 0, ring)).getAccepted()).isTrue();
      // §7.6 HAZARD fixed: the new origin's claim starts now, so n2 is refused again within the TTL.
      n1.advance(Duration.ofMillis(10));
      assertThat(c.propagate("n1", request("n2", "d", "g", 0, ring)).getAccepted()).isFalse();
      held.open();
      assertThat(c.node("n2").awaitOutcome("a").getStatus()).isEqualTo(RoundOutcomes.COMPLETED);
      assertThat(c.node("n3").awaitOutcome("c").getStatus()).isEqualTo(RoundOutcomes.COMPLETED);
      assertThat(n1.decided(PropagationQueue.Decision.ACCEPTED)).isEqualTo(2);
      assertThat(n1.decided(PropagationQueue.Decision.COALESCED)).isZero();
      assertThat(n1.decided(PropagationQueue.Decision.REJECTED)).isEqualTo(2);
      assertThat(c.runner.syncPairs()).containsExactly("n1->n2", "n1->n2");
      assertThat(c.node("n3").outcomes("b")).as("a refused request is answered, not reported").isEmpty();
    }
  }

  @Test
  void scenario35_ttlExpiredWhileTheSameOriginIsPendingCoalescesAndTheNewestRuns() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, TINY_TTL, "n1", "n2")) {
      List<String> ring = List.of("n1", "n2");
      GossipTestCluster.Node n1 = c.node("n1");
      RecordingHopRunner.Gate busy = c.runner.block(call -> call.shard() == 9);
      assertThat(c.propagate("n1", request("n2", "busy", "g", 9, ring)).getAccepted()).isTrue();
      assertThat(busy.entered().await(20, TimeUnit.SECONDS)).isTrue();

      assertThat(c.propagate("n1", request("n2", "old", "g", 0, ring)).getAccepted()).isTrue();
      n1.advance(TINY_TTL.multipliedBy(3));
      assertThat(c.propagate("n1", request("n2", "new", "g", 0, ring)).getAccepted()).isTrue();
      assertThat(n1.decided(PropagationQueue.Decision.COALESCED)).isEqualTo(1);
      assertThat(c.node("n2").awaitOutcome("old").getStatus()).isEqualTo(RoundOutcomes.SUPERSEDED);

      busy.open();
      assertThat(c.node("n2").awaitOutcome("new").getStatus()).isEqualTo(RoundOutcomes.COMPLETED);
      assertThat(c.runner.syncs).filteredOn(s -> s.shard() == 0).hasSize(1);
      assertThat(c.node("n2").outcomes("old")).hasSize(1);
    }
  }

  @Test
  void scenario36_twelveShardsQueuedBehindABlockedWorkerAreAllHandled() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2")) {
      List<String> ring = List.of("n1", "n2");
      RecordingHopRunner.Gate busy = c.runner.block(call -> call.shard() == 0);
      assertThat(c.propagate("n1", request("n2", "s0", "g", 0, ring)).getAccepted()).isTrue();
      assertThat(busy.entered().await(20, TimeUnit.SECONDS)).isTrue();
      for (int s = 1; s <= 12; s++) {
        assertThat(c.propagate("n1", request("n2", "s" + s, "g", s, ring)).getAccepted()).isTrue();
      }
      assertThat(c.node("n1").queue.pending()).isEqualTo(12);

      busy.open();
      GossipTestCluster.Node origin = c.node("n2");
      for (int s = 0; s <= 12; s++) {
        assertThat(origin.awaitOutcome("s" + s).getStatus()).as("shard %d", s).isEqualTo(RoundOutcomes.COMPLETED);
      }
      assertThat(c.runner.syncs).extracting(RecordingHopRunner.Call::shard)
          .containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
      assertThat(c.runner.syncs.subList(1, 13)).extracting(RecordingHopRunner.Call::shard)
          .as("drained oldest key first").containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
      assertThat(c.node("n1").queue.pending()).isZero();
    }
  }

  @Test
  void scenario37_closingTheWorkerWithABacklogHandlesAtMostOneMoreAndReportsTheRestAborted() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2")) {
      List<String> ring = List.of("n1", "n2");
      c.runner.slow(200);
      for (int s = 0; s < 10; s++) {
        assertThat(c.propagate("n1", request("n2", "s" + s, "g", s, ring)).getAccepted()).isTrue();
      }
      await().atMost(Duration.ofSeconds(20)).until(() -> c.runner.attempts.size() >= 2);

      int attemptsBefore = c.runner.attempts.size();
      CompletableFuture<Void> closing = CompletableFuture.runAsync(c.node("n1").worker::close);
      await().atMost(Duration.ofSeconds(10)).until(closing::isDone);
      closing.get();
      int attemptsAfter = c.runner.attempts.size();
      assertThat(attemptsAfter - attemptsBefore).as("hops started after close").isLessThanOrEqualTo(2);

      GossipTestCluster.Node origin = c.node("n2");
      List<String> statuses = new ArrayList<>();
      for (int s = 0; s < 10; s++) {
        statuses.add(origin.awaitOutcome("s" + s).getStatus());
      }
      long completed = statuses.stream().filter(RoundOutcomes.COMPLETED::equals).count();
      long aborted = statuses.stream().filter(RoundOutcomes.ABORTED::equals).count();
      assertThat(completed + aborted).as(statuses.toString()).isEqualTo(10);
      assertThat(completed).isEqualTo(c.runner.syncs.size()).isLessThanOrEqualTo(attemptsAfter);
      assertThat(aborted).isGreaterThanOrEqualTo(10 - attemptsAfter);
      for (int s = 0; s < 10; s++) {
        assertThat(origin.outcomes("s" + s)).as("shard %d reported once", s).hasSize(1);
      }
      // Nothing more runs after close.
      int syncsNow = c.runner.syncs.size();
      assertThat(c.node("n1").queue.pending()).isZero();
      assertThat(c.runner.attempts).hasSize(attemptsAfter);
      assertThat(c.runner.syncs).hasSize(syncsNow);
    }
  }

  @Test
  void roundForwardedToANodeWhoseWorkerIsClosedIsNotLostSilently() throws Exception {
    try (GossipTestCluster c = new GossipTestCluster(dir, "n1", "n2", "n3")) {
      // n2 is shutting down: its worker is closed, its gRPC server still answers (DataNodeServer
      // closes the repair node before its endpoints).
      c.node("n2").worker.close();
      assertThat(c.propagate("n1", request("n3", "late", "g", 0, List.of("n1", "n2", "n3"))).getAccepted())
          .isTrue();
      RoundOutcome o = c.node("n3").awaitOutcome("late");
      // Propagate answers UNAVAILABLE, so the forwarding node reports the round FAILED at once
      // (before the fix n2 accepted it into its closed queue and the origin heard nothing).
      assertThat(o.getStatus()).isEqualTo(RoundOutcomes.FAILED);
      assertThat(o.getMessage()).contains("forwarding the round to n2 failed", "UNAVAILABLE", "shutting down");
      assertThat(o.getEndedOnNode()).isEqualTo("n1");
      assertThat(c.runner.syncPairs()).containsExactly("n1->n2");
      assertThat(c.node("n2").queue.pending()).isZero();
    }
  }
}
