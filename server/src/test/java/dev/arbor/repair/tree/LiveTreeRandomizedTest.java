package dev.arbor.repair.tree;

import static dev.arbor.repair.tree.TreeTestSupport.str;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.property.EntityKey;
import dev.arbor.property.LastWriteWins;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardWrite;
import dev.arbor.storage.StoreEvents;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The incremental (live) tree: after every step of a seeded random history of writes, deletes,
 * repair pushes, batch updates, purges, scrubs and restarts, the tree a session would use — taken
 * without any rebuild while the tree is live — equals the tree the documented hashing rules give
 * for the records the store holds, leaf for leaf and root for root.
 */
class LiveTreeRandomizedTest {
  private static final String G = "g";
  private static final int SHARD = 0;
  private static final int SLOTS = 32;

  @TempDir Path dir;
  private PropertyStore store;
  private RepairTrees trees;

  @AfterEach
  void close() throws Exception {
    closeNode();
  }

  private void openNode() throws Exception {
    StoreEvents events = new StoreEvents();
    store = PropertyStore.open(dir.resolve("data"), g -> true, events);
    trees = new RepairTrees(dir.resolve("repair"), store, SLOTS);
    trees.loadExisting(g -> true);
    trees.followWrites(events);
  }

  private void closeNode() throws Exception {
    if (trees != null) {
      trees.close();
      trees = null;
    }
    if (store != null) {
      store.close();
      store = null;
    }
  }

  @Test
  void incrementalTreeEqualsTheTreeOfTheStoredRecordsAfterEveryStep() throws Exception {
    long seed = Long.getLong("arbor.test.seed", System.nanoTime());
    System.out.println("[LiveTreeRandomizedTest] seed=" + seed + " (replay with -Darbor.test.seed=" + seed + ")");
    Random rnd = new Random(seed);
    openNode();
    RandomHistory history = new RandomHistory(G, SHARD, rnd, () -> store);
    Map<EntityKey, PropertyRecord> model = history.model();
    // Builds over the whole run: the counter restarts with each node, and a node reopened on a
    // current tree file may go live without building at all.
    long buildsOfClosedNodes = 0;
    for (int step = 0; step < 300; step++) {
      int op = rnd.nextInt(100);
      String what;
      if (op < 40) {
        what = "apply";
        history.apply();
      } else if (op < 55) {
        what = "delete";
        if (!history.delete()) {
          continue;
        }
      } else if (op < 75) {
        what = "repair push";
        history.repairPush();
      } else if (op < 85) {
        what = "batch update";
        List<EntityKey> keys = new ArrayList<>();
        for (int i = 0, n = 1 + rnd.nextInt(10); i < n; i++) {
          keys.add(history.randomKey());
        }
        keys = keys.stream().distinct().toList();
        long base = history.takeRevisions(keys.size() + 1);
        List<PropertyRecord> stored = store.updateBatch(G, keys, k -> SHARD,
            cur -> null); // decide per key below
        assertThat(stored).isEmpty();
        int i = 0;
        for (EntityKey k : keys) {
          PropertyRecord r = TreeTestSupport.live(k, base + (++i), str("b", "x"));
          store.updateBatch(G, List.of(k), x -> SHARD, cur -> LastWriteWins.beats(r, cur) ? r : null);
          history.merge(r);
        }
      } else if (op < 89) {
        what = "purge";
        history.purge();
      } else if (op < 95) {
        what = "scrub";
        BuildResult b = trees.build(G, SHARD, false);
        assertThat(b.outcome()).isIn(BuildResult.Outcome.BUILT, BuildResult.Outcome.EMPTY,
            BuildResult.Outcome.UNCHANGED);
      } else {
        what = "restart";
        buildsOfClosedNodes += trees.buildsFinished();
        closeNode();
        openNode();
      }
      // What a session does first: no rebuild while the tree is live.
      boolean wasLive = trees.isLive(G, SHARD);
      long builds = trees.buildsFinished();
      TreeSummary s = trees.ensureCurrent(G, SHARD, Duration.ofSeconds(30));
      if (wasLive) {
        assertThat(trees.buildsFinished()).as("step %d (%s): a live tree needs no build", step, what)
            .isEqualTo(builds);
      }
      // A shard with no copy here is not live: its first write could precede any notice.
      assertThat(trees.isLive(G, SHARD)).as("step %d (%s): live after the session's first call", step, what)
          .isEqualTo(store.existingShard(G, SHARD) != null);
      assertMatches(model, s, "step " + step + " (" + what + ")");
    }
    assertThat(buildsOfClosedNodes + trees.buildsFinished()).as("the run built trees (scrubs, first builds)")
        .isPositive();
    assertThat(trees.scrubMismatches()).as("scrubs found the incremental tree right").isZero();
  }

  /** A wrong notice (one no write made) is what a bug in the incremental path would leave: the scrub finds and heals it. */
  @Test
  void aScrubDetectsCountsAndHealsAWrongIncrementalTree() throws Exception {
    openNode();
    Map<EntityKey, PropertyRecord> model = RandomHistory.newModel();
    for (int i = 0; i < 50; i++) {
      PropertyRecord r = TreeTestSupport.live(new EntityKey(G, "n", "k" + i), 10 + i, str("v", "x" + i));
      TreeTestSupport.put(store, SHARD, r);
      model.put(r.key(), r);
    }
    assertMatches(model, trees.ensureCurrent(G, SHARD, Duration.ofSeconds(30)), "built");
    assertThat(trees.isLive(G, SHARD)).isTrue();
    PropertyRecord ghost = TreeTestSupport.live(new EntityKey(G, "n", "never-written"), 99, str("v", "ghost"));
    trees.onRecordsWritten(G, SHARD, List.of(new dev.arbor.storage.WrittenRecord(null, ghost)));
    TreeSummary wrong = trees.ensureCurrent(G, SHARD, Duration.ofSeconds(30));
    assertThat(wrong.leafCount()).isEqualTo(51);
    // A real write since, so the scheduled scrub (unforced) does not skip the shard as unchanged.
    PropertyRecord real = TreeTestSupport.live(new EntityKey(G, "n", "k-late"), 200, str("v", "late"));
    TreeTestSupport.put(store, SHARD, real);
    model.put(real.key(), real);

    BuildResult scrub = trees.build(G, SHARD, false);
    assertThat(scrub.outcome()).isEqualTo(BuildResult.Outcome.BUILT);
    assertThat(trees.scrubMismatches()).isEqualTo(1);
    assertMatches(model, trees.ensureCurrent(G, SHARD, Duration.ofSeconds(30)), "healed");
    assertThat(trees.build(G, SHARD, true).outcome()).isEqualTo(BuildResult.Outcome.BUILT);
    assertThat(trees.scrubMismatches()).as("nothing more to heal").isEqualTo(1);
  }

  /**
   * Writers keep writing while scrubs rebuild the shard again and again: every build's commit
   * falls between writes, the notices after it are replayed onto the new checkpoint, and no scrub
   * finds the incremental tree wrong.
   */
  @Test
  void writesDuringScrubsAreNeitherMissedNorCountedTwice() throws Exception {
    long seed = Long.getLong("arbor.test.seed", System.nanoTime());
    System.out.println("[LiveTreeRandomizedTest] concurrent seed=" + seed);
    openNode();
    trees.ensureCurrent(G, SHARD, Duration.ofSeconds(30));
    java.util.concurrent.ConcurrentHashMap<EntityKey, PropertyRecord> model = new java.util.concurrent.ConcurrentHashMap<>();
    java.util.concurrent.atomic.AtomicLong rev = new java.util.concurrent.atomic.AtomicLong(1_000);
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    List<Thread> writers = new ArrayList<>();
    java.util.concurrent.atomic.AtomicReference<Throwable> failed = new java.util.concurrent.atomic.AtomicReference<>();
    for (int w = 0; w < 2; w++) {
      Random rnd = new Random(seed + w);
      int id = w;
      Thread t = new Thread(() -> {
        try {
          while (!stop.get()) {
            // Each writer owns its keys, so its model entry is the stored record.
            EntityKey k = new EntityKey(G, "w" + id, "id-" + rnd.nextInt(200));
            PropertyRecord r = TreeTestSupport.live(k, rev.incrementAndGet(), str("v", Long.toString(rnd.nextLong())));
            List<ShardWrite> batch = List.of(new ShardWrite(G, SHARD, r));
            store.applyEach(batch);
            model.put(k, r);
          }
        } catch (Throwable e) {
          failed.set(e);
        }
      });
      t.start();
      writers.add(t);
    }
    int scrubs = 0;
    try {
      org.awaitility.Awaitility.await("writers under way").atMost(Duration.ofSeconds(30))
          .until(() -> model.size() >= 50 || failed.get() != null);
      while (scrubs < 25) {
        assertThat(trees.build(G, SHARD, true).outcome()).isIn(BuildResult.Outcome.BUILT, BuildResult.Outcome.EMPTY);
        scrubs++;
      }
    } finally {
      stop.set(true);
      for (Thread t : writers) {
        t.join();
      }
    }
    assertThat(failed.get()).isNull();
    assertThat(trees.scrubMismatches()).as("scrubs that disagreed with the incremental tree").isZero();
    Map<EntityKey, PropertyRecord> sorted = RandomHistory.newModel();
    sorted.putAll(model);
    assertMatches(sorted, trees.ensureCurrent(G, SHARD, Duration.ofSeconds(30)), "after the writers stopped");
    assertThat(trees.build(G, SHARD, true).outcome()).isEqualTo(BuildResult.Outcome.BUILT);
    assertThat(trees.scrubMismatches()).isZero();
  }

  private void assertMatches(Map<EntityKey, PropertyRecord> model, TreeSummary s, String when) throws Exception {
    RandomHistory.assertTreeMatches(trees, G, SHARD, SLOTS, model, s, when);
  }
}
