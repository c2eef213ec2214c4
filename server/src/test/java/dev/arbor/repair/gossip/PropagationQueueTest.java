package dev.arbor.repair.gossip;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.api.repair.v1.PropagationContext;
import dev.arbor.api.repair.v1.PropagationRequest;
import dev.arbor.repair.gossip.PropagationQueue.Decision;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Decisions of the per-(group, shard) queue (spec §7.6), on a clock the test moves. */
class PropagationQueueTest {
  private static final Duration TTL = Duration.ofMillis(50);
  private final AtomicLong clock = new AtomicLong(1_000);
  private final PropagationQueue q = new PropagationQueue(TTL, clock::get);

  private static PropagationRequest req(String origin, String round, String group, int shard) {
    return PropagationRequest.newBuilder().setGroup(group).setShard(shard)
        .setContext(PropagationContext.newBuilder().addNodes("a").addNodes("b").setMaxPropagationCount(1)
            .setOriginNode(origin).setRoundId(round))
        .build();
  }

  private void advanceMs(long ms) {
    clock.addAndGet(PropagationQueue.nanos(ms));
  }

  /** Takes the next round and, as a worker does once it has handled it, releases its shard. */
  private String takeRound() throws InterruptedException {
    Optional<PropagationRequest> r = q.take(Duration.ZERO);
    r.ifPresent(q::release);
    return r.map(x -> x.getContext().getRoundId()).orElse(null);
  }

  @Test
  void unseenKeyIsAcceptedAndSameOriginCoalescesLatestWins() throws Exception {
    PropagationRequest r1 = req("a", "r1", "g", 0);
    PropagationQueue.Offer o1 = q.offer(r1);
    assertThat(o1.decision()).isEqualTo(Decision.ACCEPTED);
    assertThat(o1.replaced()).isNull();
    assertThat(o1.currentOrigin()).isEqualTo("a");

    PropagationQueue.Offer o2 = q.offer(req("a", "r2", "g", 0));
    assertThat(o2.decision()).isEqualTo(Decision.COALESCED);
    assertThat(o2.replaced()).isEqualTo(r1);
    assertThat(q.pending()).isEqualTo(1);
    assertThat(takeRound()).isEqualTo("r2");
    assertThat(takeRound()).isNull();

    // Same origin again with nothing pending: accepted, not a coalesce.
    assertThat(q.offer(req("a", "r3", "g", 0)).decision()).isEqualTo(Decision.ACCEPTED);
  }

  @Test
  void otherOriginIsRejectedWithinTheTtlEvenWhenNothingIsPending() throws Exception {
    q.offer(req("a", "r1", "g", 0));
    // Taken and still being handled (not released).
    assertThat(q.take(Duration.ZERO).orElseThrow().getContext().getRoundId()).isEqualTo("r1");
    advanceMs(50); // not strictly more than the TTL
    PropagationQueue.Offer o = q.offer(req("b", "x", "g", 0));
    assertThat(o.decision()).isEqualTo(Decision.REJECTED);
    assertThat(o.currentOrigin()).isEqualTo("a");
    assertThat(o.replaced()).isNull();
    assertThat(q.pending()).isZero();
    // Keys are independent.
    assertThat(q.offer(req("b", "y", "g", 1)).decision()).isEqualTo(Decision.ACCEPTED);
    assertThat(q.offer(req("b", "z", "h", 0)).decision()).isEqualTo(Decision.ACCEPTED);
  }

  @Test
  void afterTheTtlAnotherOriginTakesOverAndReplacesWhatIsPending() {
    PropagationRequest r1 = req("a", "r1", "g", 0);
    q.offer(r1);
    advanceMs(51);
    PropagationQueue.Offer o = q.offer(req("b", "x", "g", 0));
    assertThat(o.decision()).isEqualTo(Decision.COALESCED);
    assertThat(o.replaced()).isEqualTo(r1);
    assertThat(o.currentOrigin()).isEqualTo("b");
    // Now "a" is the other origin.
    assertThat(q.offer(req("a", "r2", "g", 0)).decision()).isEqualTo(Decision.REJECTED);
  }

  @Test
  void sinceIsRefreshedWhenANewOriginIsAccepted() {
    q.offer(req("a", "r1", "g", 0));
    advanceMs(60);
    assertThat(q.offer(req("b", "x", "g", 0)).decision()).isNotEqualTo(Decision.REJECTED);
    // Upstream never refreshes `since`: 70 ms after the first request "a" would be let in again.
    advanceMs(10);
    assertThat(q.offer(req("a", "r2", "g", 0)).decision()).as("§7.6 HAZARD: b's claim is fresh")
        .isEqualTo(Decision.REJECTED);
    advanceMs(41);
    assertThat(q.offer(req("a", "r3", "g", 0)).decision()).isNotEqualTo(Decision.REJECTED);
  }

  @Test
  void sameOriginRequestsDoNotExtendTheClaim() {
    q.offer(req("a", "r1", "g", 0));
    advanceMs(30);
    q.offer(req("a", "r2", "g", 0));
    advanceMs(30);
    // 60 ms since "a" took the shard (its later requests do not move `since`).
    assertThat(q.offer(req("b", "x", "g", 0)).decision()).isEqualTo(Decision.COALESCED);
  }

  @Test
  void takeDrainsEveryKeyOldestFirstAndWaitsForNewOnes() throws Exception {
    for (int s = 0; s < 13; s++) {
      q.offer(req("a", "s" + s, "g", s));
    }
    assertThat(q.pending()).isEqualTo(13);
    for (int s = 0; s < 13; s++) {
      assertThat(takeRound()).isEqualTo("s" + s);
    }
    assertThat(q.pending()).isZero();

    CompletableFuture<Optional<PropagationRequest>> waiting = CompletableFuture.supplyAsync(() -> {
      try {
        return q.take(Duration.ofSeconds(30));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    q.offer(req("a", "late", "g", 3));
    assertThat(waiting.get(20, java.util.concurrent.TimeUnit.SECONDS)).get()
        .extracting(r -> r.getContext().getRoundId()).isEqualTo("late");
  }

  @Test
  void closeReturnsWhatIsLeftAndWakesAWaitingTaker() throws Exception {
    CompletableFuture<Optional<PropagationRequest>> waiting = CompletableFuture.supplyAsync(() -> {
      try {
        return q.take(Duration.ofSeconds(30));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    q.offer(req("a", "r1", "g", 0));
    assertThat(waiting.get(20, java.util.concurrent.TimeUnit.SECONDS)).isPresent();
    q.offer(req("a", "r2", "g", 1));
    q.offer(req("a", "r3", "g", 2));

    CompletableFuture<Optional<PropagationRequest>> blocked = CompletableFuture.supplyAsync(() -> {
      try {
        return q.take(Duration.ofSeconds(30));
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    // Either the taker got r2 before close, or close returns both.
    List<PropagationRequest> left = q.close();
    Optional<PropagationRequest> got = blocked.get(20, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(left.size() + (got.isPresent() ? 1 : 0)).isEqualTo(2);
    assertThat(q.take(Duration.ofSeconds(30))).as("closed: returns at once, empty").isEmpty();
    assertThat(q.pending()).isZero();
    // A request after close would never be handled nor reported: refused instead.
    assertThatThrownBy(() -> q.offer(req("a", "r4", "g", 3))).isInstanceOf(IllegalStateException.class);
    assertThat(q.pending()).isZero();
  }

  @Test
  void aShardBeingHandledIsNotTakenAgainUntilReleased_otherShardsAre() throws Exception {
    q.offer(req("a", "r1", "g", 0));
    PropagationRequest first = q.take(java.time.Duration.ZERO).orElseThrow();
    q.offer(req("a", "r2", "g", 0)); // newer round of the same shard while r1 runs
    q.offer(req("a", "r3", "g", 1));
    PropagationRequest other = q.take(java.time.Duration.ZERO).orElseThrow();
    assertThat(other.getContext().getRoundId()).as("a second worker takes another shard").isEqualTo("r3");
    assertThat(q.take(java.time.Duration.ofMillis(20))).as("shard 0 is busy").isEmpty();
    q.release(first);
    assertThat(q.take(java.time.Duration.ZERO).orElseThrow().getContext().getRoundId()).isEqualTo("r2");
  }
}
