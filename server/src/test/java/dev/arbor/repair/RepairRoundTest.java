package dev.arbor.repair;

import static dev.arbor.repair.RepairTestCluster.outcome;
import static dev.arbor.repair.RepairTestCluster.record;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.repair.v1.RepairProgress;
import dev.arbor.property.PropertyRecord;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whole rounds between real data nodes (spec §11.2 gossip + sync scenarios): gossip over gRPC,
 * two-node sessions over gRPC, real Lucene shards and trees on every node.
 */
class RepairRoundTest {
  @TempDir Path dir;

  @Test
  void fiveNodesHoldingV1ToV5AllEndWithV5() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 5)) {
      c.group("g", 1, 4);
      for (int i = 1; i <= 5; i++) {
        assertThat(c.write("n" + i, 1, List.of(record("g", "p", 100 + i, 0, "v" + i)))).isEqualTo(1);
      }
      List<RepairProgress> events = c.repair("n1", "g", 0);
      RepairProgress end = outcome(events);
      assertThat(end.getOutcome().getStatus()).as(events.toString()).isEqualTo("COMPLETED");
      assertThat(end.getOutcome().getPropagationCount()).isEqualTo(7);
      assertThat(events.stream().filter(RepairProgress::hasHop)).hasSize(7);
      for (int i = 1; i <= 5; i++) {
        StoredProperty p = c.read("n" + i, "g", 1, List.of("p")).get("p");
        assertThat(p.getModRevision()).as("n%d", i).isEqualTo(105);
      }
    }
  }

  @Test
  void missingAndDifferingRecordsFlowBothWaysAndTombstonesWin() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 2)) {
      c.group("g", 1, 1);
      // n1: a1 (only here), b@10, d@5 live; n2: c1 (only here), b@20, d@5 deleted.
      c.write("n1", 1, List.of(record("g", "a1", 10, 0, "a"), record("g", "b", 10, 0, "old"),
          record("g", "d", 5, 0, "d")));
      c.write("n2", 1, List.of(record("g", "c1", 10, 0, "c"), record("g", "b", 20, 0, "new"),
          record("g", "d", 5, 999, "d")));
      RepairProgress end = outcome(c.repair("n2", "g", 0));
      assertThat(end.getOutcome().getStatus()).isEqualTo("COMPLETED");
      for (String n : List.of("n1", "n2")) {
        Map<String, StoredProperty> m = c.read(n, "g", 1, List.of("a1", "b", "c1", "d"));
        assertThat(m.keySet()).as(n).containsExactlyInAnyOrder("a1", "b", "c1", "d");
        assertThat(m.get("b").getModRevision()).as(n).isEqualTo(20);
        assertThat(m.get("d").getDeleteTime()).as("tombstone wins at equal revision on %s", n).isEqualTo(999);
      }
      assertThat(c.tree("n1", "g", 0).getRoot()).isEqualTo(c.tree("n2", "g", 0).getRoot());
    }
  }

  @Test
  void largeShardWithFewDifferencesUsesBuckets() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 2)) {
      c.group("g", 1, 1);
      List<PropertyRecord> all = new java.util.ArrayList<>();
      for (int i = 0; i < 20_000; i++) {
        all.add(record("g", "p" + i, 10, 0, "x" + i));
      }
      c.write("n1", 1, all);
      c.write("n2", 1, all);
      c.write("n1", 1, List.of(record("g", "p77", 11, 0, "changed")));
      List<RepairProgress> events = c.repair("n1", "g", 0);
      assertThat(outcome(events).getOutcome().getStatus()).isEqualTo("COMPLETED");
      var hop = events.stream().filter(RepairProgress::hasHop).findFirst().orElseThrow().getHop();
      assertThat(hop.getSlotsDiffering()).isEqualTo(1);
      assertThat(hop.getRepairedToServer() + hop.getRepairedToClient()).isEqualTo(1);
      assertThat(hop.getBytesSent() + hop.getBytesReceived()).as("traffic for one differing property")
          .isLessThan(64 * 1024);
      assertThat(c.read("n2", "g", 1, List.of("p77")).get("p77").getModRevision()).isEqualTo(11);
    }
  }

  @Test
  void allShardsOfAGroupAreRepairedInParallelRounds() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 2)) {
      c.group("g", 6, 1); // more shards than RepairAdminGrpcService.ROUND_WINDOW
      List<PropertyRecord> onN1 = new java.util.ArrayList<>();
      for (int i = 0; i < 400; i++) {
        onN1.add(record("g", "p" + i, 10, 0, "v" + i));
      }
      c.write("n1", 6, onN1);
      List<RepairProgress> events = new java.util.ArrayList<>();
      dev.arbor.api.repair.v1.RepairAdminServiceGrpc.newBlockingStub(c.adminChannel("n2"))
          .withDeadlineAfter(120, java.util.concurrent.TimeUnit.SECONDS)
          .runRepair(dev.arbor.api.repair.v1.RunRepairRequest.newBuilder().setGroup("g").setAllShards(true).build())
          .forEachRemaining(events::add);
      assertThat(events.stream().filter(RepairProgress::hasOutcome).map(e -> e.getOutcome().getStatus()))
          .containsOnly("COMPLETED").hasSize(6);
      assertThat(events.stream().filter(RepairProgress::hasOutcome).map(RepairProgress::getShard))
          .containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5);
      List<String> ids = onN1.stream().map(r -> r.key().id()).toList();
      assertThat(c.read("n2", "g", 6, ids)).hasSize(400);
    }
  }
}
