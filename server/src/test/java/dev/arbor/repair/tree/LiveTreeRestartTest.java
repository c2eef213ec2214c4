package dev.arbor.repair.tree;

import static dev.arbor.repair.tree.TreeTestSupport.str;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.FileTrees;
import dev.arbor.storage.PropertyStore;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A live tree survives restarts and crashes: its journal (persisted at every store checkpoint and
 * after every build) plus the keys the WAL replay re-applied make it live again without a build,
 * and it equals a tree built from scratch. A journal that is corrupt or older than the WAL is
 * refused, counted, and the tree rebuilt.
 *
 * <p>A crash is simulated by copying the data and repair directories while the node runs (what
 * {@code kill -9} leaves: fsynced WAL frames, the last Lucene commit, the last journal) and opening
 * the copy; {@code TreeLiveAfterKillIT} kills a real process.
 */
class LiveTreeRestartTest {
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

  private Path node() {
    return dir.resolve("node");
  }

  private void openNode() throws Exception {
    TreeTestSupport.FollowingNode opened = TreeTestSupport.openFollowing(node(), SLOTS);
    store = opened.store();
    trees = opened.trees();
  }

  /** As a data node shuts down: the store's final checkpoint persists the journals first. */
  private void closeNode() throws Exception {
    TreeTestSupport.closeLikeADataNode(store, trees);
    store = null;
    trees = null;
  }

  /** The files as a crash leaves them; the running node is then dropped and its copy opened. */
  private void crashAndReopen() throws Exception {
    Path copy = dir.resolve("crashed");
    try (Stream<Path> walk = Files.walk(node())) {
      for (Path p : walk.toList()) {
        Path t = copy.resolve(node().relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else if (!p.getFileName().toString().equals("write.lock")) {
          Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    closeNode();
    FileTrees.deleteRecursively(node());
    Files.move(copy, node());
    openNode();
  }

  @Test
  void liveTreeResumesAfterRestartsAndCrashesWithoutABuild() throws Exception {
    long seed = Long.getLong("arbor.test.seed", System.nanoTime());
    System.out.println("[LiveTreeRestartTest] seed=" + seed + " (replay with -Darbor.test.seed=" + seed + ")");
    Random rnd = new Random(seed);
    openNode();
    RandomHistory history = new RandomHistory(G, SHARD, rnd, () -> store);
    Map<EntityKey, PropertyRecord> model = history.model();
    // Tombstones purged since the last checkpoint: their WAL records are still there, so a crash's
    // replay stores them again (harmless: a tombstone; the next purge removes it).
    Map<EntityKey, PropertyRecord> purgedSinceCheckpoint = RandomHistory.newModel();
    int resumedRestarts = 0;
    for (int step = 0; step < 80; step++) {
      int op = rnd.nextInt(100);
      String what;
      boolean liveBefore = trees.isLive(G, SHARD);
      if (op < 35) {
        what = "apply";
        history.apply();
      } else if (op < 47) {
        what = "delete";
        if (!history.delete()) {
          continue;
        }
      } else if (op < 62) {
        what = "repair push";
        history.repairPush();
      } else if (op < 65) {
        what = "purge";
        history.purge().forEach(r -> purgedSinceCheckpoint.put(r.key(), r));
      } else if (op < 75) {
        what = "checkpoint";
        store.checkpoint();
        purgedSinceCheckpoint.clear();
      } else if (op < 80) {
        what = "scrub";
        trees.build(G, SHARD, false);
      } else if (op < 90) {
        what = "restart";
        closeNode();
        openNode();
        purgedSinceCheckpoint.clear();
      } else {
        what = "crash";
        crashAndReopen();
        for (PropertyRecord r : purgedSinceCheckpoint.values()) {
          PropertyRecord back = store.latest(G, SHARD, r.key());
          if (back != null && !model.containsKey(r.key())) {
            assertThat(back.deleted()).as("only purged tombstones come back").isTrue();
            model.put(r.key(), back);
          }
        }
        purgedSinceCheckpoint.clear();
      }
      if (what.equals("restart") || what.equals("crash")) {
        assertThat(trees.resumeFailures()).as("step %d (%s): journal refused", step, what).isZero();
        assertThat(trees.isLive(G, SHARD)).as("step %d (%s): live again iff it was live", step, what)
            .isEqualTo(liveBefore);
        if (liveBefore) {
          resumedRestarts++;
          assertThat(trees.resumed()).isEqualTo(1);
        }
      }
      boolean wasLive = trees.isLive(G, SHARD);
      long builds = trees.buildsFinished();
      TreeSummary s = trees.ensureCurrent(G, SHARD, Duration.ofSeconds(30));
      if (wasLive) {
        assertThat(trees.buildsFinished()).as("step %d (%s): a live tree needs no build", step, what)
            .isEqualTo(builds);
      }
      assertMatches(model, s, "step " + step + " (" + what + ")");
      if (what.equals("restart") || what.equals("crash")) {
        // The same root as a tree built from scratch of the store as it is now.
        BuildResult scratch = trees.build(G, SHARD, true);
        assertThat(scratch.summary().rootHex()).as("step %d (%s): from-scratch build", step, what)
            .isEqualTo(s.rootHex());
        assertThat(trees.scrubMismatches()).as("step %d (%s): scrub mismatches", step, what).isZero();
      }
    }
    assertThat(resumedRestarts).as("restarts that resumed a live tree").isPositive();
  }

  @Test
  void aCorruptJournalIsRefusedCountedAndTheTreeRebuilt() throws Exception {
    Map<EntityKey, PropertyRecord> model = liveShardWithWrites(40);
    closeNode();
    Path journal = node().resolve("repair").resolve(G).resolve("shard-" + SHARD).resolve(LiveJournal.FILE);
    assertThat(journal).exists();
    try (FileChannel ch = FileChannel.open(journal, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
      // Inside the first (whole) block with more blocks after it: corrupt, not a torn tail.
      long at = dev.arbor.storage.format.FileFormat.headerLength(LiveJournal.KIND) + 100;
      ch.read(b, at);
      b.put(0, (byte) (b.get(0) ^ 0x10)).rewind();
      ch.write(b, at);
    }
    openNode();
    assertThat(trees.resumeFailures()).isEqualTo(1);
    assertThat(trees.resumed()).isZero();
    assertThat(trees.isLive(G, SHARD)).isFalse();
    assertThat(journal).doesNotExist();
    TreeSummary s = trees.ensureCurrent(G, SHARD, Duration.ofSeconds(30));
    assertThat(trees.buildsFinished()).as("healed by a rebuild").isEqualTo(1);
    assertThat(trees.isLive(G, SHARD)).isTrue();
    assertMatches(model, s, "after the rebuild");
  }

  /** A journal of an earlier checkpoint (restored from a backup, say): the WAL no longer holds what came after it. */
  @Test
  void aJournalOlderThanTheWalIsRefusedAndTheTreeRebuilt() throws Exception {
    Map<EntityKey, PropertyRecord> model = liveShardWithWrites(30);
    store.checkpoint();
    Path journal = node().resolve("repair").resolve(G).resolve("shard-" + SHARD).resolve(LiveJournal.FILE);
    byte[] old = Files.readAllBytes(journal);
    for (int i = 0; i < 10; i++) {
      PropertyRecord r = TreeTestSupport.live(new EntityKey(G, "n", "late" + i), 5_000 + i, str("v", "late"));
      TreeTestSupport.put(store, SHARD, r);
      model.put(r.key(), r);
    }
    store.checkpoint(); // commits the late writes and deletes the WAL segment the old journal names
    closeNode();
    Files.write(journal, old);
    openNode();
    assertThat(trees.resumeFailures()).isEqualTo(1);
    assertThat(trees.isLive(G, SHARD)).isFalse();
    TreeSummary s = trees.ensureCurrent(G, SHARD, Duration.ofSeconds(30));
    assertThat(trees.buildsFinished()).isEqualTo(1);
    assertMatches(model, s, "after the rebuild");
  }

  /** A well-formed journal that is wrong (what a bug would persist) resumes, and the next scrub finds and heals it. */
  @Test
  void aWrongButReadableJournalIsFoundByTheScrub() throws Exception {
    Map<EntityKey, PropertyRecord> model = liveShardWithWrites(30);
    closeNode();
    Path shardDir = node().resolve("repair").resolve(G).resolve("shard-" + SHARD);
    LiveJournal j = LiveJournal.read(shardDir, SLOTS).orElseThrow().journal();
    byte[][] hashes = j.slotHashes().clone();
    hashes[3] = hashes[3].clone();
    hashes[3][0] ^= 1;
    LiveJournal.publish(new LiveJournal(j.walSegment(), j.checkpointSnapshotId(), j.checkpointLeafCount(),
        j.checkpointRoot(), hashes, j.leafCounts(), j.written()).writeTemp(shardDir));
    openNode();
    assertThat(trees.resumed()).isEqualTo(1);
    assertThat(trees.isLive(G, SHARD)).isTrue();
    PropertyRecord r = TreeTestSupport.live(new EntityKey(G, "n", "after"), 9_000, str("v", "x"));
    TreeTestSupport.put(store, SHARD, r);
    model.put(r.key(), r);
    assertThat(trees.build(G, SHARD, false).outcome()).isEqualTo(BuildResult.Outcome.BUILT);
    assertThat(trees.scrubMismatches()).isEqualTo(1);
    assertMatches(model, trees.ensureCurrent(G, SHARD, Duration.ofSeconds(30)), "healed");
  }

  /** Opens a node, builds the shard's tree (live from then on) and writes past the build. */
  private Map<EntityKey, PropertyRecord> liveShardWithWrites(int n) throws Exception {
    openNode();
    Map<EntityKey, PropertyRecord> model = RandomHistory.newModel();
    for (int i = 0; i < n; i++) {
      PropertyRecord r = TreeTestSupport.live(new EntityKey(G, "n", "k" + i), 10 + i, str("v", "x" + i));
      TreeTestSupport.put(store, SHARD, r);
      model.put(r.key(), r);
      if (i == n / 2) {
        trees.ensureCurrent(G, SHARD, Duration.ofSeconds(30));
        assertThat(trees.isLive(G, SHARD)).isTrue();
      }
    }
    return model;
  }

  private void assertMatches(Map<EntityKey, PropertyRecord> model, TreeSummary s, String when) throws IOException {
    RandomHistory.assertTreeMatches(trees, G, SHARD, SLOTS, model, s, when);
  }
}
