package dev.arbor.repair.tree;

import static dev.arbor.repair.tree.TreeTestSupport.str;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.FileTrees;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.StoreEvents;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The append-only journal through restarts: a crash during a checkpoint's append leaves a torn
 * block, which is cut off (the checkpoint had not deleted any WAL segment yet, so the last whole
 * block plus the replay is complete); a journal written by the previous format (version 2, a real
 * file in {@code fixtures/live-journal-v2}, see {@code make-live-journal-v2.sh}) resumes the tree.
 */
class LiveJournalRestartTest {
  private static final String G = "g";
  private static final int SLOTS = 32;

  @TempDir Path dir;
  private PropertyStore store;
  private RepairTrees trees;

  @AfterEach
  void close() throws Exception {
    closeNode();
  }

  private void openNode(Path node) throws Exception {
    TreeTestSupport.FollowingNode opened = TreeTestSupport.openFollowing(node, SLOTS);
    store = opened.store();
    trees = opened.trees();
  }

  private void closeNode() throws Exception {
    TreeTestSupport.closeLikeADataNode(store, trees);
    store = null;
    trees = null;
  }

  private static void copy(Path from, Path to) throws Exception {
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : walk.toList()) {
        Path t = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else if (!p.getFileName().toString().equals("write.lock")) {
          Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  @Test
  void aCrashDuringAnAppendLeavesATornBlockThatIsCutOff() throws Exception {
    Path node = dir.resolve("node");
    openNode(node);
    Map<EntityKey, PropertyRecord> model = RandomHistory.newModel();
    for (int i = 0; i < 60; i++) {
      PropertyRecord r = TreeTestSupport.live(new EntityKey(G, "n", "k" + (i % 45)), 10 + i, str("v", "x" + i));
      TreeTestSupport.put(store, 0, r);
      model.put(r.key(), r);
      if (i % 15 == 14) {
        store.checkpoint(); // appends a block
      }
    }
    Path journal = node.resolve("repair").resolve(G).resolve("shard-0").resolve(LiveJournal.FILE);
    LiveJournal.Read before = LiveJournal.read(journal.getParent(), SLOTS).orElseThrow();
    assertThat(before.blocks()).as("the whole state and one block per checkpoint").isEqualTo(5);
    // As kill -9 during the next checkpoint's append leaves it: part of a block, the WAL untouched.
    Path crashed = dir.resolve("crashed");
    copy(node, crashed);
    closeNode();
    byte[] block = LiveJournal.encode(new LiveJournal.Delta(before.journal().walSegment() + 1, new int[0],
        new byte[0][], new int[0], java.util.List.<byte[][]>of(new byte[][] {"n\u0000zz".getBytes(), new byte[32]})));
    Files.write(crashed.resolve("repair").resolve(G).resolve("shard-0").resolve(LiveJournal.FILE),
        Arrays.copyOf(block, block.length / 2), StandardOpenOption.APPEND);
    openNode(crashed);
    assertThat(trees.resumeFailures()).isZero();
    assertThat(trees.resumed()).isEqualTo(1);
    assertThat(trees.isLive(G, 0)).isTrue();
    TreeSummary s = trees.ensureCurrent(G, 0, Duration.ofSeconds(30));
    RandomHistory.assertTreeMatches(trees, G, 0, SLOTS, model, s, "after the torn append");
    LiveJournal.Read after = LiveJournal.read(crashed.resolve("repair").resolve(G).resolve("shard-0"), SLOTS)
        .orElseThrow();
    assertThat(after.tornBytes()).as("rewritten whole at resume").isZero();
    assertThat(after.blocks()).isEqualTo(1);
    assertThat(trees.build(G, 0, true).summary().rootHex()).as("from-scratch build").isEqualTo(s.rootHex());
    assertThat(trees.scrubMismatches()).isZero();
  }

  @Test
  void aVersionTwoJournalOfTheLastBuildThatWroteItResumesTheTree() throws Exception {
    Path src = Path.of(getClass().getResource("/fixtures/live-journal-v2").toURI());
    Path node = dir.resolve("v2");
    copy(src, node);
    Path shardDir = node.resolve("repair").resolve("lj").resolve("shard-0");
    assertThat(LiveJournal.read(shardDir, SLOTS).orElseThrow().version()).isEqualTo(LiveJournal.VERSION_WHOLE);
    StoreEvents events = new StoreEvents();
    store = PropertyStore.open(node, g -> true, events);
    trees = new RepairTrees(node.resolve("repair"), store, SLOTS);
    trees.loadExisting(g -> true);
    trees.followWrites(events);
    assertThat(trees.resumeFailures()).isZero();
    assertThat(trees.resumed()).isEqualTo(1);
    assertThat(trees.isLive("lj", 0)).isTrue();
    TreeSummary s = trees.ensureCurrent("lj", 0, Duration.ofSeconds(30));
    assertThat(trees.buildsFinished()).isZero();
    assertThat(s.leafCount()).as("k0..k34").isEqualTo(35);
    assertThat(LiveJournal.read(shardDir, SLOTS).orElseThrow().version()).as("rewritten in the current format")
        .isEqualTo(LiveJournal.VERSION);
    assertThat(trees.build("lj", 0, true).summary().rootHex()).as("from-scratch build").isEqualTo(s.rootHex());
    assertThat(trees.scrubMismatches()).isZero();
  }
}
