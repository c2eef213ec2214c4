package dev.arbor.repair;

import static dev.arbor.repair.RepairTestCluster.record;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.cluster.DataNode;
import dev.arbor.observability.trace.Tracer;
import dev.arbor.property.PropertyRecord;
import dev.arbor.repair.coverage.ReplicaRings;
import dev.arbor.repair.tree.BuildSchedule;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The background trigger: replicas converge with nobody asking; every shard of a replicated group
 * gets a round from its first replica at each firing (deterministic, not a random pick), and a
 * replica takes over a shard left uncovered for half the grace.
 */
class RepairTriggerTest {
  @TempDir Path dir;

  @Test
  void scheduledRoundsRepairDivergedReplicasWithoutAnyoneAsking() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 2, "@every 1s")) {
      c.group("g", 1, 1);
      List<PropertyRecord> onlyOnN1 = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        onlyOnN1.add(record("g", "p" + i, 10, 0, "v" + i));
      }
      c.write("n1", 1, onlyOnN1);
      c.write("n2", 1, List.of(record("g", "q", 10, 0, "only on n2")));
      List<String> ids = new ArrayList<>();
      onlyOnN1.forEach(r -> ids.add(r.key().id()));
      ids.add("q");
      await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
        assertThat(c.read("n2", "g", 1, ids)).hasSize(201);
        assertThat(c.read("n1", "g", 1, ids)).hasSize(201);
      });
    }
  }

  private static RepairTrigger trigger(RepairTestCluster c, String node, Duration grace, LongSupplier now) {
    return new RepairTrigger(node, BuildSchedule.parse("@daily"), rings(c), c.nodes.get(node).coverageWatermarks(),
        c.nodes.get(node).repairRounds(), 2, grace, now);
  }

  private static ReplicaRings rings(RepairTestCluster c) {
    return new ReplicaRings(c.metadata, () -> c.registry.nodes().stream()
        .map(n -> DataNode.of(n.id(), n.grpcAddress())).toList());
  }

  @Test
  void oneFiringPerNodeCoversEveryShardOf32OnThreeNodesOnce() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 3)) {
      c.group("single", 4, 0);
      assertThat(trigger(c, "n1", Duration.ofDays(7), Tracer::nowNanos).fireOnce())
          .as("no group keeps two copies").isEmpty();
      c.group("g", 32, 1); // two copies of 32 shards over three nodes
      List<Integer> shards = new ArrayList<>();
      for (String n : List.of("n1", "n2", "n3")) {
        for (RepairRounds.Round r : trigger(c, n, Duration.ofDays(7), Tracer::nowNanos).fireOnce()) {
          assertThat(r.group()).isEqualTo("g");
          assertThat(r.nodes().get(0)).as("scheduled by the shard's first replica").isEqualTo(n);
          assertThat(r.outcome().get().getStatus()).isEqualTo("COMPLETED");
          shards.add(r.shard());
        }
      }
      assertThat(shards).as("each shard once, by its first replica").hasSize(32)
          .containsExactlyInAnyOrderElementsOf(IntStream.range(0, 32).boxed().toList());
      ReplicaRings rings = rings(c);
      Group g = c.metadata.group("g").orElseThrow();
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
        for (int s = 0; s < 32; s++) {
          for (String n : rings.ring(g, s)) {
            assertThat(c.nodes.get(n).coverageWatermarks().get("g", s)).as("g/%d on %s", s, n).isPresent();
          }
        }
      });
    }
  }

  @Test
  void aReplicaTakesOverShardsUncoveredForHalfTheGrace() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 3)) {
      c.group("g", 32, 1);
      ReplicaRings rings = rings(c);
      Group g = c.metadata.group("g").orElseThrow();
      Set<Integer> held = new HashSet<>();
      for (int s = 0; s < 32; s++) {
        if (rings.ring(g, s).contains("n2")) {
          held.add(s);
        }
      }
      // Half a grace passes on n2's clock after its trigger started: it sees every shard it holds
      // uncovered for that long, first replica or not (nobody else scheduled anything).
      Duration grace = Duration.ofHours(2);
      AtomicLong ahead = new AtomicLong();
      RepairTrigger n2 = trigger(c, "n2", grace, () -> Tracer.nowNanos() + ahead.get());
      ahead.set(grace.dividedBy(2).toNanos());
      Set<Integer> started = new HashSet<>();
      for (RepairRounds.Round r : n2.fireOnce()) {
        assertThat(r.outcome().get().getStatus()).isEqualTo("COMPLETED");
        started.add(r.shard());
      }
      assertThat(started).isEqualTo(held);
      assertThat(held.stream().filter(s -> !rings.ring(g, s).get(0).equals("n2"))).as("takeovers").isNotEmpty();
    }
  }

  @Test
  void scheduleGapsAreMeasuredAgainstTheGrace() {
    ZonedDateTime from = ZonedDateTime.of(2024, 1, 1, 12, 0, 0, 0, ZoneOffset.UTC);
    assertThat(RepairTrigger.longestGap(BuildSchedule.parse("0 2 * * *"), from, Duration.ofDays(14)))
        .isEqualTo(Duration.ofHours(24));
    assertThat(RepairTrigger.longestGap(BuildSchedule.parse("@every 1h"), from, Duration.ofDays(14)))
        .isEqualTo(Duration.ofHours(1));
    assertThat(RepairTrigger.longestGap(BuildSchedule.parse("@weekly"), from, Duration.ofDays(14)))
        .isGreaterThan(Duration.ofDays(3));
  }
}
