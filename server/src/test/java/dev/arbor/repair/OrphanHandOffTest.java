package dev.arbor.repair;

import static dev.arbor.repair.OrphanedCopyResurrectionTest.FAST;
import static dev.arbor.repair.OrphanedCopyResurrectionTest.GRACE;
import static dev.arbor.repair.OrphanedCopyResurrectionTest.SKEW;
import static dev.arbor.repair.OrphanedCopyResurrectionTest.nowNanos;
import static dev.arbor.repair.OrphanedCopyResurrectionTest.rank;
import static dev.arbor.repair.OrphanedCopyResurrectionTest.record;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.metadata.RegisteredNode;
import dev.arbor.property.PropertyRecord;
import dev.arbor.repair.handoff.LastAlive;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hand-off of orphaned copies between real data nodes: what is pushed, debounce, the long-absence fence. */
class OrphanHandOffTest {
  @TempDir Path dir;

  @Test
  void handOffDeliversRecentRecordsOnlyTheStandInHeldButNotOldOnes() throws Exception {
    long seed = System.nanoTime();
    System.out.println("[OrphanHandOffTest] seed=" + seed);
    Random random = new Random(seed);
    try (RepairTestCluster c = new RepairTestCluster(dir, 4, "off", GRACE, SKEW, FAST)) {
      c.group("g", 1, 1);
      List<String> rank = rank(c, "g", 0);
      String a = rank.get(0);
      String o = rank.get(1);
      String s = rank.get(2);
      c.stop(o);
      long now = nowNanos();
      List<PropertyRecord> recent = new ArrayList<>();
      int n = 10 + random.nextInt(20); // several batches of 7
      for (int i = 0; i < n; i++) {
        recent.add(random.nextInt(4) == 0 ? record("r" + i, now - 2, now - 1, "deleted recently")
            : record("r" + i, now, 0, "v" + random.nextInt()));
      }
      PropertyRecord stale = record("stale", now - GRACE.toNanos() - Duration.ofMinutes(1).toNanos(), 0, "old");
      List<PropertyRecord> onStandIn = new ArrayList<>(recent);
      onStandIn.add(stale);
      c.write(s, 1, onStandIn); // acknowledged by the stand-in only

      c.start(o);
      List<String> ids = recent.stream().map(r -> r.key().id()).toList();
      await("recent records reach both owners (seed " + seed + ")").atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            assertThat(c.read(a, "g", 1, ids)).hasSize(n);
            assertThat(c.read(o, "g", 1, ids)).hasSize(n);
            assertThat(shardDir(c, s)).doesNotExist();
          });
      for (PropertyRecord r : recent) {
        assertThat(c.read(a, "g", 1, List.of(r.key().id())).get(r.key().id()).getDeleteTime())
            .isEqualTo(r.deleteTime());
      }
      assertThat(c.read(a, "g", 1, List.of("stale"))).as("older than the grace: not pushed").isEmpty();
      assertThat(c.read(o, "g", 1, List.of("stale"))).isEmpty();
    }
  }

  @Test
  void aRegistrationThatFlapsWithinTheDebounceKeepsTheCopy() throws Exception {
    var slow = FAST.withDebounce(Duration.ofSeconds(3));
    try (RepairTestCluster c = new RepairTestCluster(dir, 3, "off", GRACE, SKEW, slow)) {
      c.group("g", 1, 1);
      String x = rank(c, "g", 0).get(0);
      c.write(x, 1, List.of(record("k", nowNanos(), 0, "v")));
      RegisteredNode reg = c.registry.nodes().stream().filter(r -> r.id().equals(x)).findFirst().orElseThrow();
      c.registry.deregister(x);
      await("out for less than the debounce: kept").during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2))
          .pollInterval(Duration.ofMillis(100)).until(() -> Files.exists(shardDir(c, x)));
      c.registry.register(reg, Duration.ofMinutes(5));
      await("owner again: kept").during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(5))
          .pollInterval(Duration.ofMillis(100)).until(() -> Files.exists(shardDir(c, x)));
      assertThat(c.read(x, "g", 1, List.of("k"))).containsKey("k");

      c.registry.deregister(x);
      await("out longer than the debounce: handed off and dropped").atMost(Duration.ofSeconds(20))
          .pollInterval(Duration.ofMillis(100)).until(() -> !Files.exists(shardDir(c, x)));
      String owner = rank(c, "g", 0).get(0);
      assertThat(c.read(owner, "g", 1, List.of("k"))).containsKey("k");
      c.registry.register(reg, Duration.ofMinutes(5));
    }
  }

  @Test
  void aNodeAwayLongerThanTheGraceHandsOffAndStartsEmpty() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 3, "off", GRACE, SKEW, FAST)) {
      c.group("g", 1, 1);
      List<String> rank = rank(c, "g", 0);
      String x = rank.get(0);
      String y = rank.get(1);
      long now = nowNanos();
      PropertyRecord old = record("old", now - Duration.ofMinutes(30).toNanos(), 0, "kept by both");
      c.write(x, 1, List.of(old));
      c.write(y, 1, List.of(old));
      c.write(x, 1, List.of(record("recent", now, 0, "only on x")));
      c.stop(x);
      // Being away for longer than the grace is simulated by backdating the stopped node's
      // last-alive time rather than waiting it out.
      new LastAlive(c.dataDir(x).resolve("last-alive")).write(Instant.now().minus(Duration.ofMinutes(1)));
      c.start(x);
      await("x hands its recent record to y and drops its copy").atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            assertThat(c.read(y, "g", 1, List.of("recent"))).containsKey("recent");
            assertThat(shardDir(c, x)).doesNotExist();
          });
      assertThat(c.read(x, "g", 1, List.of("old", "recent"))).as("x starts empty; repair refills it").isEmpty();
      // The fence is lifted just after the directory goes (drop, then forget): a round in that
      // window is refused and the next one repairs.
      await("a repair round refills x").atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
          .until(() -> RepairTestCluster.outcome(c.repair(y, "g", 0)).getOutcome().getStatus().equals("COMPLETED"));
      assertThat(c.read(x, "g", 1, List.of("old", "recent"))).hasSize(2);

      // A restart within the grace keeps the data.
      c.stop(x);
      c.start(x);
      assertThat(c.read(x, "g", 1, List.of("old", "recent"))).hasSize(2);
    }
  }

  /**
   * A damaged last-alive file says the node ran with the file but not for how long it was away: it
   * fences like a long absence (treating it as missing, as a never-written file is, could resurrect
   * deletes the others purged meanwhile).
   */
  @Test
  void aDamagedLastAliveFileFencesLikeALongAbsence() throws Exception {
    try (RepairTestCluster c = new RepairTestCluster(dir, 3, "off", GRACE, SKEW, FAST)) {
      c.group("g", 1, 1);
      List<String> rank = rank(c, "g", 0);
      String x = rank.get(0);
      String y = rank.get(1);
      c.write(x, 1, List.of(record("recent", nowNanos(), 0, "only on x")));
      c.stop(x);
      Path file = c.dataDir(x).resolve("last-alive");
      byte[] b = java.nio.file.Files.readAllBytes(file);
      b[b.length - 1] ^= 1;
      java.nio.file.Files.write(file, b);
      c.start(x);
      await("x hands its recent record to y and drops its copy").atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            assertThat(c.read(y, "g", 1, List.of("recent"))).containsKey("recent");
            assertThat(shardDir(c, x)).doesNotExist();
          });
      await("the file is written anew once the copies are dropped").atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(100)).until(() -> readable(file));
    }
  }

  /** Whether the last-alive file reads (it stays damaged until the fenced copies are dropped). */
  private static boolean readable(Path file) {
    try {
      return new LastAlive(file).read().isPresent();
    } catch (java.io.IOException damaged) {
      return false;
    }
  }

  private static Path shardDir(RepairTestCluster c, String node) {
    return c.dataDir(node).resolve("data").resolve("g").resolve("shard-0");
  }
}
