package dev.arbor.repair;

import static dev.arbor.repair.RepairTestCluster.record;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.property.PropertyRecord;
import dev.arbor.repair.tree.BuildSchedule;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The background trigger: replicas converge with nobody asking, and only repairable shards are picked. */
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

  @Test
  void picksOnlyGroupsKeepingTwoCopiesAndShardsInRange() throws Exception {
    long seed = System.nanoTime();
    System.out.println("[RepairTriggerTest] seed=" + seed);
    try (RepairTestCluster c = new RepairTestCluster(dir, 2)) {
      c.group("single", 4, 0);
      RepairTrigger none = new RepairTrigger(BuildSchedule.parse("@daily"), c.metadata,
          c.nodes.get("n1").repairRounds(), new Random(seed));
      assertThat(none.fireOnce()).as("no group keeps two copies").isNull();
      c.group("pair", 3, 1);
      Set<Integer> shards = new HashSet<>();
      for (int i = 0; i < 30; i++) {
        RepairRounds.Round r = none.fireOnce();
        assertThat(r.group()).isEqualTo("pair");
        assertThat(r.shard()).isBetween(0, 2);
        shards.add(r.shard());
        // Wait for the outcome, so rounds do not pile up.
        var e = r.next(Duration.ofSeconds(30));
        while (e != null && !e.hasOutcome()) {
          e = r.next(Duration.ofSeconds(30));
        }
        assertThat(e).as("round %s ended", r.id()).isNotNull();
      }
      assertThat(shards).as("random shards over 30 fires (seed %d)", seed).hasSizeGreaterThan(1);
    }
  }
}
