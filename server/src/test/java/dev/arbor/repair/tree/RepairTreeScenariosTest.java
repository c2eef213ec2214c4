package dev.arbor.repair.tree;

import static dev.arbor.repair.tree.TreeTestSupport.allLeaves;
import static dev.arbor.repair.tree.TreeTestSupport.i64;
import static dev.arbor.repair.tree.TreeTestSupport.key;
import static dev.arbor.repair.tree.TreeTestSupport.live;
import static dev.arbor.repair.tree.TreeTestSupport.put;
import static dev.arbor.repair.tree.TreeTestSupport.slotLeaves;
import static dev.arbor.repair.tree.TreeTestSupport.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.property.ContentHash;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.repair.tree.BuildResult.Outcome;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.StoreEvents;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spec §11.2 scenarios 1–7 (tree build), adapted to our design (root over all slots). */
class RepairTreeScenariosTest {
  static final int SLOTS = 32;
  static final String G = "g";

  @TempDir Path dir;

  private PropertyStore store;
  private RepairTrees trees;
  private TreeBuildScheduler scheduler;

  @AfterEach
  void close() throws IOException {
    if (scheduler != null) {
      scheduler.close();
    }
    if (trees != null) {
      trees.close();
    }
    if (store != null) {
      store.close();
    }
  }

  private void open() throws IOException {
    store = PropertyStore.open(dir, g -> true);
    trees = new RepairTrees(dir.resolve("repair"), store, SLOTS);
  }

  private Path treeFile(int shard) {
    return trees.shardDir(G, shard).resolve(RepairTrees.TREE_FILE);
  }

  private Path stateFile(int shard) {
    return trees.shardDir(G, shard).resolve(RepairTrees.STATE_FILE);
  }

  private static List<Integer> nonEmptySlots(TreeSummary s) {
    return s.slots().stream().filter(x -> x.leafCount() > 0).map(SlotSummary::index).toList();
  }

  // --- 1 -------------------------------------------------------------------------------------

  @Test
  void scenario1_emptyShardBuildsTheEmptyTreeWithoutAFile() throws IOException {
    open();
    store.shard(G, 0); // the shard exists on this node but holds nothing

    BuildResult r = trees.build(G, 0, false);

    assertThat(r.outcome()).as(r.message()).isEqualTo(Outcome.EMPTY);
    assertThat(treeFile(0)).doesNotExist();
    assertThat(r.summary().root()).isEqualTo(TreeHasher.emptyRoot(SLOTS));
    assertThat(r.summary().leafCount()).isZero();
    TreeSummary served = trees.summary(G, 0).orElseThrow();
    assertThat(served.root()).isEqualTo(TreeHasher.emptyRoot(SLOTS));
    assertThat(served.slots()).hasSize(SLOTS).allSatisfy(s -> {
      assertThat(s.leafCount()).isZero();
      assertThat(s.hash()).isEqualTo(TreeHasher.emptySlotHash());
    });
    try (ServedTree t = trees.acquire(G, 0).orElseThrow()) {
      assertThat(t.isEmpty()).isTrue();
    }
  }

  @Test
  void scenario1_shardNotOnThisNodeIsEmptyToo() throws IOException {
    open();
    BuildResult r = trees.build(G, 7, false);
    assertThat(r.outcome()).isEqualTo(Outcome.EMPTY);
    assertThat(r.summary().root()).isEqualTo(TreeHasher.emptyRoot(SLOTS));
    assertThat(treeFile(7)).doesNotExist();
  }

  @Test
  void emptyRootDependsOnTheSlotCountAndMatchesTheDocumentedRule() {
    List<List<TreeLeaf>> none = new ArrayList<>();
    for (int i = 0; i < SLOTS; i++) {
      none.add(List.of());
    }
    assertThat(TreeHasher.emptyRoot(SLOTS)).isEqualTo(TreeTestSupport.expectedRoot(none));
    assertThat(TreeHasher.emptyRoot(SLOTS)).isNotEqualTo(TreeHasher.emptyRoot(16));
    assertThat(TreeHasher.emptySlotHash()).isEqualTo(new byte[64]);
  }

  // --- 2 -------------------------------------------------------------------------------------

  @Test
  void scenario2_onePropertyGivesOneLeafWithItsContentHash() throws IOException {
    open();
    EntityKey k = key(G, "svc", "test1");
    PropertyRecord v = live(k, 1_000, str("name", "a"), i64("n", 1));
    put(store, 0, v);

    BuildResult r = trees.build(G, 0, false);

    assertThat(r.outcome()).as(r.message()).isEqualTo(Outcome.BUILT);
    assertThat(treeFile(0)).isRegularFile();
    int slot = TreeHasher.slotOf(k.entity(), SLOTS);
    assertThat(nonEmptySlots(r.summary())).containsExactly(slot);
    try (ServedTree t = trees.acquire(G, 0).orElseThrow()) {
      List<TreeLeaf> leaves = slotLeaves(t, slot);
      assertThat(leaves).hasSize(1);
      assertThat(leaves.get(0).entity()).isEqualTo("g/svc/test1");
      assertThat(leaves.get(0).sha()).isEqualTo(ContentHash.of(v.source(), 0)).isEqualTo(v.sha());
      assertThat(t.summary().root())
          .isEqualTo(TreeTestSupport.expectedRoot(TreeTestSupport.bySlot(leaves, SLOTS)))
          .isNotEqualTo(TreeHasher.emptyRoot(SLOTS));
    }
  }

  // --- 3 -------------------------------------------------------------------------------------

  @Test
  void scenario3_liveThenDeletedGivesOneLeafWithTheTombstoneHash() throws IOException {
    open();
    EntityKey k = key(G, "svc", "test1");
    PropertyRecord v1 = live(k, 1_000, str("name", "a"));
    PropertyRecord v2 = live(k, 1_500, str("name", "b")).tombstone(2000);
    put(store, 0, v1);
    put(store, 0, v2);

    BuildResult r = trees.build(G, 0, false);

    assertThat(r.outcome()).isEqualTo(Outcome.BUILT);
    List<TreeLeaf> leaves = allLeaves(trees, G, 0);
    assertThat(leaves).hasSize(1);
    assertThat(leaves.get(0).entity()).isEqualTo(k.entity());
    assertThat(leaves.get(0).sha())
        .isEqualTo(ContentHash.of(v2.source(), 2000))
        .isNotEqualTo(ContentHash.of(v2.source(), 0))
        .isNotEqualTo(v1.sha());
    assertThat(nonEmptySlots(r.summary())).containsExactly(TreeHasher.slotOf(k.entity(), SLOTS));
  }

  // --- 4 -------------------------------------------------------------------------------------

  @Test
  void scenario4_eachKeyContributesItsLatestVersionOnly() throws IOException {
    open();
    EntityKey t1 = key(G, "svc", "test1");
    EntityKey t2 = key(G, "svc", "test2");
    EntityKey t3 = key(G, "svc", "test3");
    PropertyRecord t1v3 = live(t1, 3, str("v", "3"));
    PropertyRecord t1v4 = live(t1, 4, str("v", "4"));
    PropertyRecord t2v1 = live(t2, 1, str("v", "1"));
    PropertyRecord t2v2 = live(t2, 2, str("v", "2"));
    PropertyRecord t3v1 = live(t3, 1, str("v", "1"));
    put(store, 0, t1v3);
    put(store, 0, t2v1);
    put(store, 0, t3v1);
    // older versions stay in an older segment (kept alive by test3, so Lucene cannot drop it):
    // the scan must skip deleted documents
    store.checkpoint();
    put(store, 0, t1v4);
    put(store, 0, t2v2);

    BuildResult r = trees.build(G, 0, false);

    assertThat(r.outcome()).isEqualTo(Outcome.BUILT);
    assertThat(r.summary().leafCount()).isEqualTo(3);
    List<TreeLeaf> leaves = allLeaves(trees, G, 0);
    assertThat(leaves)
        .containsExactlyInAnyOrder(
            new TreeLeaf(t1.entityUtf8(), t1v4.sha()),
            new TreeLeaf(t2.entityUtf8(), t2v2.sha()),
            new TreeLeaf(t3.entityUtf8(), t3v1.sha()));
    Set<Integer> slots = new TreeSet<>(List.of(
        TreeHasher.slotOf(t1.entity(), SLOTS), TreeHasher.slotOf(t2.entity(), SLOTS),
        TreeHasher.slotOf(t3.entity(), SLOTS)));
    assertThat(nonEmptySlots(r.summary())).containsExactlyElementsOf(slots);
    int perSlotTotal = r.summary().slots().stream().mapToInt(SlotSummary::leafCount).sum();
    assertThat(perSlotTotal).isEqualTo(3);
    assertThat(r.summary().root())
        .isEqualTo(TreeTestSupport.expectedRoot(TreeTestSupport.bySlot(leaves, SLOTS)));
  }

  @Test
  void scenario4_supersededVersionsInAnOlderSegmentAreSkipped() throws IOException {
    open();
    // a big old segment with few deletions survives the commit unmerged, deleted docs and all
    List<PropertyRecord> old = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      old.add(live(key(G, "svc", "filler" + i), 1, i64("n", i)));
    }
    EntityKey t1 = key(G, "svc", "test1");
    EntityKey t2 = key(G, "svc", "test2");
    old.add(live(t1, 3, str("v", "3")));
    old.add(live(t2, 1, str("v", "1")));
    TreeTestSupport.putAll(store, 0, old);
    store.checkpoint();
    PropertyRecord t1v4 = live(t1, 4, str("v", "4"));
    PropertyRecord t2v2 = live(t2, 2, str("v", "2")).tombstone(77);
    put(store, 0, t1v4);
    put(store, 0, t2v2);

    BuildResult r = trees.build(G, 0, false);

    assertThat(r.outcome()).as(r.message()).isEqualTo(Outcome.BUILT);
    assertThat(r.summary().leafCount()).isEqualTo(62);
    var leaves = TreeTestSupport.leafMap(trees, G, 0);
    assertThat(leaves).hasSize(62);
    assertThat(leaves.get(t1.entity())).isEqualTo(t1v4.sha());
    assertThat(leaves.get(t2.entity())).isEqualTo(t2v2.sha());
  }

  // --- 5 -------------------------------------------------------------------------------------

  @Test
  void scenario5_rebuildWithoutChangeIsUnchangedAndForcedRebuildGivesTheSameRoot() throws IOException {
    open();
    put(store, 0, live(key(G, "svc", "test1"), 10, str("a", "b")));

    BuildResult first = trees.build(G, 0, false);
    BuildResult second = trees.build(G, 0, false);
    BuildResult forced = trees.build(G, 0, true);

    assertThat(first.outcome()).isEqualTo(Outcome.BUILT);
    assertThat(second.outcome()).as(second.message()).isEqualTo(Outcome.UNCHANGED);
    assertThat(second.snapshotId()).isEqualTo(first.snapshotId());
    assertThat(second.summary().root()).isEqualTo(first.summary().root());
    assertThat(forced.outcome()).isEqualTo(Outcome.BUILT);
    assertThat(forced.snapshotId()).isEqualTo(first.snapshotId());
    assertThat(forced.summary().root()).isEqualTo(first.summary().root());
    assertThat(trees.summary(G, 0).orElseThrow().root()).isEqualTo(first.summary().root());
    assertThat(allLeaves(trees, G, 0)).hasSize(1);
  }

  @Test
  void scenario5_unchangedAlsoHoldsAcrossARestartWithoutNewWrites() throws IOException {
    open();
    put(store, 0, live(key(G, "svc", "test1"), 10, str("a", "b")));
    BuildResult first = trees.build(G, 0, false);
    trees.close();
    store.close();

    open();
    trees.loadExisting(g -> true);
    assertThat(trees.summary(G, 0)).isPresent();
    BuildResult again = trees.build(G, 0, false);

    assertThat(again.outcome()).as(again.message()).isEqualTo(Outcome.UNCHANGED);
    assertThat(again.summary().root()).isEqualTo(first.summary().root());
  }

  // --- 6 -------------------------------------------------------------------------------------

  @Test
  void scenario6_aNewPropertyIsInTheNextBuildAndTheStateRecordsTheNewSnapshot() throws IOException {
    open();
    EntityKey t1 = key(G, "svc", "test1");
    EntityKey t2 = key(G, "svc", "test2");
    put(store, 0, live(t1, 10, str("a", "b")));
    BuildResult first = trees.build(G, 0, false);
    BuildState s1 = BuildStateFile.read(stateFile(0)).orElseThrow();

    put(store, 0, live(t2, 11, str("a", "c")));
    BuildResult second = trees.build(G, 0, false);
    BuildState s2 = BuildStateFile.read(stateFile(0)).orElseThrow();

    assertThat(second.outcome()).isEqualTo(Outcome.BUILT);
    assertThat(second.snapshotId()).isGreaterThan(first.snapshotId());
    assertThat(second.summary().root()).isNotEqualTo(first.summary().root());
    assertThat(allLeaves(trees, G, 0).stream().map(TreeLeaf::entity).collect(Collectors.toSet()))
        .containsExactlyInAnyOrder(t1.entity(), t2.entity());
    assertThat(s1.snapshotId()).isEqualTo(first.snapshotId());
    assertThat(s1.leafCount()).isEqualTo(1);
    assertThat(s2.snapshotId()).isEqualTo(second.snapshotId()).isGreaterThan(s1.snapshotId());
    assertThat(s2.leafCount()).isEqualTo(2);
    assertThat(s2.root()).isEqualTo(second.summary().rootHex());
    assertThat(s2.group()).isEqualTo(G);
    assertThat(s2.shard()).isZero();
    assertThat(s2.slotCount()).isEqualTo(SLOTS);
    try (TreeFileReader r = TreeFileReader.open(treeFile(0))) {
      assertThat(r.header().snapshotId()).isEqualTo(second.snapshotId());
      assertThat(r.summary().leafCount()).isEqualTo(2);
    }
  }

  // --- 7 -------------------------------------------------------------------------------------

  @Test
  void scenario7_quickBuildAfterAWriteProducesTheTree() throws IOException {
    StoreEvents events = new StoreEvents();
    store = PropertyStore.open(dir, g -> true, events);
    trees = new RepairTrees(dir.resolve("repair"), store, SLOTS);
    // next scheduled run is an hour away: the quick build is never skipped by the half-interval rule
    scheduler = new TreeBuildScheduler(trees, BuildSchedule.parse("@every 1h"), Duration.ofMillis(50), 1);
    events.subscribe(trees);
    events.subscribe(scheduler);
    scheduler.start();

    put(store, 0, live(key(G, "svc", "test1"), 10, str("a", "b")));

    await("tree file after the first write")
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> Files.exists(treeFile(0)) && leafCount(0) == 1);

    // A second write can only be picked up by another quick build (start-up build ran already,
    // the scheduled one is an hour away).
    long snap1 = trees.summary(G, 0).orElseThrow().header().snapshotId();
    put(store, 0, live(key(G, "svc", "test2"), 11, str("a", "c")));
    await("quick build after the second write")
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> leafCount(0) == 2);
    assertThat(trees.summary(G, 0).orElseThrow().header().snapshotId()).isGreaterThan(snap1);
    assertThat(scheduler.quickSkipped.get()).isZero();
    assertThat(trees.buildsFailed()).isZero();
  }

  @Test
  void scenario7_scheduledBuildsPickUpWrites() throws IOException {
    StoreEvents events = new StoreEvents();
    store = PropertyStore.open(dir, g -> true, events);
    trees = new RepairTrees(dir.resolve("repair"), store, SLOTS);
    // quick builds far away: only the schedule can build
    scheduler = new TreeBuildScheduler(trees, BuildSchedule.parse("@every 1s"), Duration.ofHours(1), 1);
    events.subscribe(trees);
    events.subscribe(scheduler);
    scheduler.start();

    put(store, 0, live(key(G, "svc", "test1"), 10, str("a", "b")));
    put(store, 1, live(key(G, "svc", "other"), 10, str("a", "b")));
    await("scheduled build of both shards")
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> leafCount(0) == 1 && leafCount(1) == 1);

    put(store, 0, live(key(G, "svc", "test2"), 11, str("a", "c")));
    await("scheduled build after another write")
        .atMost(Duration.ofSeconds(20))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> leafCount(0) == 2);
    assertThat(Files.exists(treeFile(0))).isTrue();
    assertThat(trees.buildsFailed()).isZero();
  }

  private long leafCount(int shard) {
    Optional<TreeSummary> s = trees.summary(G, shard);
    return s.map(TreeSummary::leafCount).orElse(-1L);
  }
}
