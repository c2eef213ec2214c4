package dev.arbor.repair;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.repair.v1.PropagationRequest;
import dev.arbor.api.repair.v1.PropagationResponse;
import dev.arbor.api.repair.v1.RoundOutcome;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.cluster.DataNode;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.observability.trace.Tracer;
import dev.arbor.property.HybridClock;
import dev.arbor.repair.coverage.CoverageListener;
import dev.arbor.repair.gossip.GossipPeers;
import dev.arbor.repair.gossip.RoundOutcomes;
import dev.arbor.runtime.ManualRuntime;
import dev.arbor.runtime.NodeRuntime;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A round nobody reports on ends ABORTED when its deadline (plus the report grace) passes on the
 * node runtime's virtual time: the test moves time, nothing waits for real. Rounds started within
 * one clock tick stay distinct rounds.
 */
class RoundDeadlineVirtualTimeTest {
  private static final long WALL_START = 1_600_000_000_000_000_000L;
  /** The grace RepairRounds gives the last hop's report after the round deadline. */
  private static final Duration REPORT_GRACE = Duration.ofSeconds(10);

  @TempDir Path dir;

  @Test
  void aSilentRoundIsAbortedWhenVirtualTimePassesItsDeadline() throws Exception {
    ManualRuntime time = new ManualRuntime(WALL_START);
    NodeRuntime runtime = time.nodeRuntime();
    List<PropagationRequest> offered = new ArrayList<>();
    try (EmbeddedMetadataStore metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system())) {
      metadata.createGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName("g"))
          .setCatalog(Catalog.CATALOG_PROPERTY)
          .setResourceOpts(ResourceOpts.newBuilder().setShardNum(1).setReplicas(1)).build());
      PropagationResponse accepted = PropagationResponse.newBuilder().setAccepted(true).build();
      GossipPeers peers = new GossipPeers() {
        @Override
        public Optional<String> address(String nodeId) {
          return Optional.of(nodeId + ":1");
        }

        @Override
        public CompletableFuture<PropagationResponse> propagate(String address, PropagationRequest request) {
          offered.add(request);
          return CompletableFuture.completedFuture(accepted);
        }

        @Override
        public CompletableFuture<Void> report(String address, RoundReport report) {
          return CompletableFuture.completedFuture(null);
        }
      };
      Duration timeout = Duration.ofMinutes(2);
      RepairRounds rounds = new RepairRounds(runtime, "a", metadata,
          () -> List.of(DataNode.of("a", "a:1"), DataNode.of("b", "b:1")), r -> {
            offered.add(r);
            return accepted;
          }, peers, new Tracer("a", s -> { }, runtime.wallClock()), RoundObserver.NONE, timeout,
          CoverageListener.NONE);
      RepairRounds.Round round = rounds.start("g", 0, null, "manual");

      assertThat(offered).hasSize(1);
      assertThat(offered.get(0).getContext().getDeadlineUnixMs())
          .as("the deadline is on the runtime's wall clock").isEqualTo(WALL_START / 1_000_000 + timeout.toMillis());
      assertThat(round.id()).isEqualTo("a-" + WALL_START + "-1");

      time.advance(timeout.plus(REPORT_GRACE).minusNanos(1));
      assertThat(round.outcome()).as("not before deadline + grace").isNotDone();
      time.advance(Duration.ofNanos(1));
      assertThat(round.outcome()).isDone();
      RoundOutcome o = round.outcome().getNow(null);
      assertThat(o.getStatus()).isEqualTo(RoundOutcomes.ABORTED);
      assertThat(o.getMessage()).contains("no outcome reported within the round deadline of PT2M");
      rounds.close();
    }
    runtime.close();
    assertThat(time.stopped()).containsExactly("arbor-repair-rounds");
  }

  /**
   * The trigger starts the rounds of several shards in one loop, within one clock tick: each
   * keeps its own id, hears its own reports and ends. With ids made of node and time alone the
   * second round replaced the first in the table, and the first never ended (the simulation found
   * it: seed 11).
   */
  @Test
  void roundsStartedInOneClockTickAreDistinctAndAllEnd() throws Exception {
    ManualRuntime time = new ManualRuntime(WALL_START);
    NodeRuntime runtime = time.nodeRuntime();
    try (EmbeddedMetadataStore metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system())) {
      metadata.createGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName("g"))
          .setCatalog(Catalog.CATALOG_PROPERTY)
          .setResourceOpts(ResourceOpts.newBuilder().setShardNum(2).setReplicas(1)).build());
      PropagationResponse accepted = PropagationResponse.newBuilder().setAccepted(true).build();
      RepairRounds rounds = new RepairRounds(runtime, "a", metadata,
          () -> List.of(DataNode.of("a", "a:1"), DataNode.of("b", "b:1")), r -> accepted, null,
          new Tracer("a", s -> { }, runtime.wallClock()), RoundObserver.NONE, Duration.ofMinutes(2),
          CoverageListener.NONE);
      RepairRounds.Round first = rounds.start("g", 0, null, "schedule");
      RepairRounds.Round second = rounds.start("g", 1, null, "schedule");

      assertThat(second.id()).isNotEqualTo(first.id());
      rounds.onReport(RoundReport.newBuilder().setRoundId(first.id()).setGroup("g").setShard(0)
          .setOutcome(RoundOutcomes.of(RoundOutcomes.COMPLETED, "1 of 1 hops done", 1, 1, "b")).build());
      assertThat(first.outcome()).as("the first round hears its own report").isDone();
      assertThat(second.outcome()).isNotDone();
      rounds.close();
      assertThat(second.outcome()).as("closing ends the rounds still running").isDone();
    }
    runtime.close();
  }
}
