package dev.arbor.repair;

import static dev.arbor.repair.RepairTestCluster.outcome;
import static dev.arbor.repair.RepairTestCluster.record;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.property.PropertyRecord;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica down during a delete keeps its live copy; the others must not purge the tombstone
 * before a round covering every replica carried the delete there, or the live copy comes back.
 */
class TombstonePurgeCoverageTest {
  // Shorter than n3's absence plus the clock skew and n3 would be fenced at restart (its copies
  // dropped as possibly stale), which is not what this test is about.
  private static final Duration GRACE = Duration.ofSeconds(10);
  private static final Duration SKEW = Duration.ofSeconds(1);

  @TempDir Path dir;

  @Test
  void noPurgeBeforeACoveringRoundThenPurgedEverywhereWithoutResurrection() throws Exception {
    long seed = System.nanoTime();
    System.out.println("[TombstonePurgeCoverageTest] seed=" + seed);
    Random random = new Random(seed);
    try (RepairTestCluster c = new RepairTestCluster(dir, 3, "off", GRACE, SKEW,
        dev.arbor.repair.handoff.HandOffSettings.DEFAULTS)) {
      c.group("g", 1, 2); // three copies: every node holds the shard
      List<PropertyRecord> live = new ArrayList<>();
      List<String> ids = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        ids.add("p" + i);
        live.add(record("g", "p" + i, 10, 0, "v" + random.nextInt()));
      }
      for (String n : List.of("n1", "n2", "n3")) {
        c.write(n, 1, live);
      }
      List<String> shuffled = new ArrayList<>(ids);
      Collections.shuffle(shuffled, random);
      List<String> deleted = List.copyOf(shuffled.subList(0, 1 + random.nextInt(10)));
      List<String> kept = ids.stream().filter(id -> !deleted.contains(id)).toList();

      // n3 is down while the delete happens; the grace of the delete is long over.
      c.stop("n3");
      long deleteTime = nowNanos() - Duration.ofMinutes(10).toNanos();
      List<PropertyRecord> tombstones = deleted.stream().map(id -> record("g", id, 20, deleteTime, "gone")).toList();
      c.write("n1", 1, tombstones);
      c.write("n2", 1, tombstones);
      List<String> deletedIds = deleted;
      await("tombstones kept while a replica may still hold the live copy (seed " + seed + ")")
          .during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
          .untilAsserted(() -> {
            for (String n : List.of("n1", "n2")) {
              assertThat(c.read(n, "g", 1, deletedIds).values()).as(n).hasSize(deletedIds.size())
                  .allSatisfy(p -> assertThat(p.getDeleteTime()).isEqualTo(deleteTime));
            }
          });

      c.start("n3");
      assertThat(c.read("n3", "g", 1, deletedIds).values()).as("n3 missed the delete")
          .allSatisfy(p -> assertThat(p.getDeleteTime()).isZero());
      await("still no purge without a covering round (seed " + seed + ")")
          .during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200))
          .untilAsserted(() -> assertThat(c.read("n1", "g", 1, deletedIds)).hasSize(deletedIds.size()));

      assertThat(outcome(c.repair("n1", "g", 0)).getOutcome().getStatus()).isEqualTo("COMPLETED");
      for (String n : List.of("n1", "n2", "n3")) {
        assertThat(c.read(n, "g", 1, deletedIds).values()).as("after the round, %s holds the delete or purged it", n)
            .allSatisfy(p -> assertThat(p.getDeleteTime()).isEqualTo(deleteTime));
      }
      await("purged on every replica once covered (seed " + seed + ")").atMost(Duration.ofSeconds(40))
          .pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            for (String n : List.of("n1", "n2", "n3")) {
              assertThat(c.read(n, "g", 1, deletedIds)).as(n).isEmpty();
            }
          });

      // Nothing comes back: another round and every node still lacks the deleted, holds the rest.
      assertThat(outcome(c.repair("n2", "g", 0)).getOutcome().getStatus()).isEqualTo("COMPLETED");
      for (String n : List.of("n1", "n2", "n3")) {
        assertThat(c.read(n, "g", 1, deletedIds)).as("no resurrection on %s (seed %d)", n, seed).isEmpty();
        Map<String, StoredProperty> rest = c.read(n, "g", 1, kept);
        assertThat(rest).as(n).hasSize(kept.size());
      }
    }
  }

  private static long nowNanos() {
    Instant i = Instant.now();
    return i.getEpochSecond() * 1_000_000_000L + i.getNano();
  }
}
