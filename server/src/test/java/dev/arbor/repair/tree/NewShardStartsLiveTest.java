package dev.arbor.repair.tree;

import static dev.arbor.repair.tree.TreeTestSupport.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.StoreEvents;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shard created empty on a node whose trees follow writes is live from its first write, with no
 * build, and stays live across a restart; a shard with writes and no tree at all is built by the
 * quick build even late in the schedule's interval; a live tree whose leaves written since its
 * build outgrow the bound is scrubbed at once.
 */
class NewShardStartsLiveTest {
  private static final String G = "g";
  private static final int SLOTS = 32;

  @TempDir Path dir;
  private StoreEvents events;
  private PropertyStore store;
  private RepairTrees trees;
  private TreeBuildScheduler scheduler;

  @AfterEach
  void close() throws Exception {
    closeNode();
  }

  private void openStore() throws Exception {
    events = new StoreEvents();
    store = PropertyStore.open(dir.resolve("data"), g -> true, events);
  }

  private void openTrees(long maxOverlay, boolean follow) throws Exception {
    trees = new RepairTrees(dir.resolve("repair"), store, SLOTS, 0, maxOverlay);
    trees.loadExisting(g -> true);
    if (follow) {
      trees.followWrites(events);
    }
  }

  private void closeNode() throws Exception {
    if (scheduler != null) {
      scheduler.close();
      scheduler = null;
    }
    TreeTestSupport.closeLikeADataNode(store, trees);
    store = null;
    trees = null;
  }

  /** Starts the scheduler and waits until its start-up build of every shard is behind it. */
  private void startScheduler(BuildSchedule schedule, Duration quickDelay) {
    scheduler = new TreeBuildScheduler(trees, schedule, quickDelay, 1);
    events.subscribe(scheduler);
    scheduler.start();
    scheduler.submit("other", 9); // queued after the start-up build on the single builder thread
    await().atMost(Duration.ofSeconds(30)).until(() -> trees.buildsFinished() == 1);
  }

  private PropertyRecord put(int shard, String id) {
    PropertyRecord r = TreeTestSupport.live(new EntityKey(G, "n", id), 100 + id.hashCode() % 1000, str("v", id));
    TreeTestSupport.put(store, shard, r);
    return r;
  }

  @Test
  void aNewShardIsLiveFromItsFirstWriteWithoutABuildAndAfterARestart() throws Exception {
    openStore();
    openTrees(RepairTrees.DEFAULT_MAX_OVERLAY_LEAVES, true);
    assertThat(trees.isLive(G, 0)).isFalse();
    Map<EntityKey, PropertyRecord> model = RandomHistory.newModel();
    for (int i = 0; i < 5; i++) {
      PropertyRecord r = put(0, "k" + i);
      model.put(r.key(), r);
      assertThat(trees.isLive(G, 0)).as("after write %d", i).isTrue();
    }
    assertThat(trees.buildsFinished()).as("no build").isZero();
    TreeSummary s = trees.ensureCurrent(G, 0, Duration.ofSeconds(30));
    assertThat(trees.buildsFinished()).as("a session needs no build either").isZero();
    RandomHistory.assertTreeMatches(trees, G, 0, SLOTS, model, s, "live from empty");
    closeNode();
    openStore();
    openTrees(RepairTrees.DEFAULT_MAX_OVERLAY_LEAVES, true);
    assertThat(trees.resumed()).as("resumed from the empty checkpoint and its journal").isEqualTo(1);
    assertThat(trees.resumeFailures()).isZero();
    assertThat(trees.isLive(G, 0)).isTrue();
    s = trees.ensureCurrent(G, 0, Duration.ofSeconds(30));
    assertThat(trees.buildsFinished()).isZero();
    RandomHistory.assertTreeMatches(trees, G, 0, SLOTS, model, s, "after the restart");
    assertThat(trees.build(G, 0, true).summary().rootHex()).as("from-scratch build").isEqualTo(s.rootHex());
    assertThat(trees.scrubMismatches()).isZero();
  }

  /** The next run always a minute away in an hourly interval: every quick build falls in its second half. */
  private static final BuildSchedule LATE = new BuildSchedule() {
    @Override
    public ZonedDateTime next(ZonedDateTime t) {
      return t.plusMinutes(1);
    }

    @Override
    public Duration interval(ZonedDateTime t) {
      return Duration.ofHours(1);
    }
  };

  @Test
  void aShardWithWritesAndNoTreeIsBuiltLateInTheIntervalOneWithATreeWaits() throws Exception {
    openStore();
    // Not following: shards are not created live, as on a node whose trees were never built.
    openTrees(RepairTrees.DEFAULT_MAX_OVERLAY_LEAVES, false);
    startScheduler(LATE, Duration.ofMillis(10));
    put(1, "a");
    await().atMost(Duration.ofSeconds(30)).until(() -> scheduler.quickBuilds.get() + scheduler.quickSkipped.get() > 0);
    assertThat(scheduler.quickSkipped.get()).as("a shard without a tree is not skipped").isZero();
    await().atMost(Duration.ofSeconds(30)).until(() -> trees.summary(G, 1).isPresent());
    put(1, "b");
    await().atMost(Duration.ofSeconds(30)).until(() -> scheduler.quickBuilds.get() + scheduler.quickSkipped.get() > 1);
    assertThat(scheduler.quickSkipped.get()).as("a shard with a tree waits for the scheduled run").isEqualTo(1);
  }

  @Test
  void aLiveTreeWhoseWrittenLeavesOutgrowTheBoundIsScrubbedAtOnce() throws Exception {
    openStore();
    openTrees(10, true);
    startScheduler(BuildSchedule.parse("@every 10h"), Duration.ofHours(1));
    for (int i = 0; i < 10; i++) {
      put(0, "k" + i);
    }
    assertThat(trees.isLive(G, 0)).isTrue();
    assertThat(trees.overlayFull(G, 0)).as("10 leaves written, bound 10").isFalse();
    put(0, "k10");
    put(0, "k11");
    await().atMost(Duration.ofSeconds(30)).until(() -> trees.buildsFinished() > 1 && !trees.overlayFull(G, 0));
    assertThat(trees.isLive(G, 0)).isTrue();
    assertThat(trees.scrubMismatches()).isZero();
    assertThat(trees.summary(G, 0).orElseThrow().leafCount()).isEqualTo(12);
  }
}
