package dev.arbor.repair;

import static dev.arbor.repair.RepairTestCluster.outcome;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.Placement;
import dev.arbor.property.PropertyRecord;
import dev.arbor.repair.handoff.HandOffSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A stand-in that held a shard while its owner was away must not keep that copy: it misses the
 * deletes made after the owner returns, and once their tombstones are purged, the next churn that
 * makes it a replica again would bring the deleted property back.
 */
class OrphanedCopyResurrectionTest {
  static final Duration GRACE = Duration.ofSeconds(10);
  static final Duration SKEW = Duration.ofSeconds(1);
  static final HandOffSettings FAST = new HandOffSettings(Duration.ofSeconds(1), Duration.ofMillis(200),
      Duration.ofMillis(500), 7, Duration.ofMillis(100));

  @TempDir Path dir;

  @Test
  void standInDropsItsCopySoAPurgedDeleteStaysDeleted() throws Exception {
    long seed = System.nanoTime();
    System.out.println("[OrphanedCopyResurrectionTest] seed=" + seed);
    Random random = new Random(seed);
    try (RepairTestCluster c = new RepairTestCluster(dir, 4, "off", GRACE, SKEW, FAST)) {
      c.group("g", 1, 1); // two copies of one shard on four nodes
      List<String> rank = rank(c, "g", 0);
      String a = rank.get(0);
      String o = rank.get(1);
      String s = rank.get(2); // the stand-in: next in rendezvous rank
      long now = nowNanos();
      long old = now - Duration.ofMinutes(10).toNanos();
      List<PropertyRecord> initial = new ArrayList<>();
      initial.add(record("gone", old, 0, "doomed"));
      for (int i = 0; i < 5 + random.nextInt(10); i++) {
        initial.add(record("keep" + i, old, 0, "v" + random.nextInt()));
      }
      c.write(a, 1, initial);
      c.write(o, 1, initial);

      // The owner leaves; the stand-in becomes a replica, is repaired and takes an acked write.
      c.stop(o);
      assertThat(rank(c, "g", 0).subList(0, 2)).containsExactly(a, s);
      assertThat(outcome(c.repair(a, "g", 0)).getOutcome().getStatus()).isEqualTo("COMPLETED");
      assertThat(c.read(s, "g", 1, List.of("gone"))).as("stand-in copied the key").containsKey("gone");
      c.write(s, 1, List.of(record("acked", nowNanos(), 0, "only on the stand-in")));

      // The owner returns: the stand-in's copy is an orphan; its recent write goes to the owners.
      c.start(o);
      assertThat(rank(c, "g", 0).subList(0, 2)).containsExactly(a, o);
      await("the stand-in hands its acknowledged write to the owners and drops its copy (seed " + seed + ")")
          .atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            assertThat(c.read(a, "g", 1, List.of("acked"))).containsKey("acked");
            assertThat(c.read(o, "g", 1, List.of("acked"))).containsKey("acked");
            assertThat(Files.exists(c.dataDir(s).resolve("data").resolve("g").resolve("shard-0"))).isFalse();
          });

      // A delete the stand-in never sees; a round covers the owners; they purge the tombstone.
      long deleteAt = now - Duration.ofMinutes(5).toNanos();
      List<PropertyRecord> delete = List.of(record("gone", deleteAt, deleteAt, "doomed"));
      c.write(a, 1, delete);
      c.write(o, 1, delete);
      assertThat(outcome(c.repair(a, "g", 0)).getOutcome().getStatus()).isEqualTo("COMPLETED");
      await("tombstone purged on both owners (seed " + seed + ")").atMost(Duration.ofSeconds(40))
          .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            assertThat(c.read(a, "g", 1, List.of("gone"))).isEmpty();
            assertThat(c.read(o, "g", 1, List.of("gone"))).isEmpty();
          });

      // Churn: the owner leaves again and the stand-in is a replica once more.
      c.stop(o);
      assertThat(outcome(c.repair(a, "g", 0)).getOutcome().getStatus()).isEqualTo("COMPLETED");
      assertThat(c.read(a, "g", 1, List.of("gone"))).as("no resurrection on %s (seed %d)", a, seed).isEmpty();
      assertThat(c.read(s, "g", 1, List.of("gone"))).as("no resurrection on %s (seed %d)", s, seed).isEmpty();
      assertThat(c.read(a, "g", 1, List.of("acked"))).containsKey("acked");
      assertThat(c.read(s, "g", 1, List.of("acked"))).as("repair refilled the stand-in").containsKey("acked");
      List<String> kept = initial.stream().map(r -> r.key().id()).filter(id -> !id.equals("gone")).toList();
      assertThat(c.read(s, "g", 1, kept)).hasSize(kept.size());
    }
  }

  /** The data nodes in placement order of (group, shard), as every node computes it. */
  static List<String> rank(RepairTestCluster c, String group, int shard) {
    List<DataNode> nodes = c.registry.nodes().stream().map(n -> DataNode.of(n.id(), n.grpcAddress())).toList();
    return Placement.of(nodes).placeCapped(group, shard, nodes.size()).stream().map(n -> n.id().value()).toList();
  }

  /** Property g/t/id at a revision (ns); deleteTime 0 = live. */
  static PropertyRecord record(String id, long revision, long deleteTime, String value) {
    PropertyRecord live = RepairTestCluster.record("g", id, revision, 0, value);
    return deleteTime == 0 ? live : live.tombstoneAt(revision + 1, deleteTime);
  }

  static long nowNanos() {
    java.time.Instant i = java.time.Instant.now();
    return i.getEpochSecond() * 1_000_000_000L + i.getNano();
  }
}
