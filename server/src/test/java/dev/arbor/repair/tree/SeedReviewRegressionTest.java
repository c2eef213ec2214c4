package dev.arbor.repair.tree;

import static dev.arbor.repair.tree.TreeTestSupport.UTF8_ORDER;
import static dev.arbor.repair.tree.TreeTestSupport.allLeaves;
import static dev.arbor.repair.tree.TreeTestSupport.buildDirs;
import static dev.arbor.repair.tree.TreeTestSupport.i64;
import static dev.arbor.repair.tree.TreeTestSupport.key;
import static dev.arbor.repair.tree.TreeTestSupport.leafMap;
import static dev.arbor.repair.tree.TreeTestSupport.live;
import static dev.arbor.repair.tree.TreeTestSupport.put;
import static dev.arbor.repair.tree.TreeTestSupport.putAll;
import static dev.arbor.repair.tree.TreeTestSupport.slotLeaves;
import static dev.arbor.repair.tree.TreeTestSupport.str;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.repair.tree.BuildResult.Outcome;
import dev.arbor.storage.DocumentCodec;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardIndex;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.util.Bits;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One test (or a few) per review comment on the seed implementation (spec §5.6) and per tree
 * HAZARD of §5.2/§5.3 that our implementation claims to fix.
 */
class SeedReviewRegressionTest {
  static final int SLOTS = 32;
  static final String G = "g";

  @TempDir Path dir;

  private final List<AutoCloseable> toClose = new ArrayList<>();
  private PropertyStore store;
  private RepairTrees trees;

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private void open() throws IOException {
    store = PropertyStore.open(dir.resolve("node"), g -> true);
    toClose.add(store);
    trees = new RepairTrees(dir.resolve("node").resolve("repair"), store, SLOTS);
    toClose.add(trees);
  }

  private static byte[] sha(String s) {
    try {
      return MessageDigest.getInstance("SHA-512").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Leaf reads stream (seed: whole page only) and the reader does not load leaves at open
  // ---------------------------------------------------------------------------------------------

  @Test
  void leavesStreamInOrderAndAreNotReadAtOpen() throws IOException {
    int slotCount = 4;
    int n = 5_000;
    List<String> entities = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      entities.add(String.format("g/svc/e-%05d", i));
    }
    entities.sort(UTF8_ORDER);
    Map<Integer, List<TreeLeaf>> expected = new TreeMap<>();
    Path file = dir.resolve("t").resolve("tree.bin");
    try (TreeFileWriter w = new TreeFileWriter(dir.resolve("t").resolve("build-1"), slotCount)) {
      for (String e : entities) {
        byte[] u = e.getBytes(StandardCharsets.UTF_8);
        byte[] s = sha(e);
        w.add(u, s);
        expected.computeIfAbsent(TreeHasher.slotOf(u, slotCount), x -> new ArrayList<>()).add(new TreeLeaf(u, s));
      }
      w.finish(file, new TreeHeader(G, 0, slotCount, 7, 1));
    }
    assertThat(dir.resolve("t").resolve("build-1")).doesNotExist();

    byte[] root;
    try (TreeFileReader r = TreeFileReader.open(file)) {
      root = r.root();
      long total = 0;
      for (int s = 0; s < slotCount; s++) {
        TreeFileReader.LeafIterator it = r.leaves(s);
        assertThat(it).isInstanceOf(Iterator.class);
        List<TreeLeaf> got = new ArrayList<>();
        while (it.hasNext()) {
          got.add(it.next());
        }
        // hasNext stays false and next fails once the slot is exhausted (no phantom leaves)
        assertThat(it.hasNext()).isFalse();
        assertThat(it.hasNext()).isFalse();
        assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class);
        it.close();
        assertThat(got).as("slot %d", s).containsExactlyElementsOf(expected.get(s));
        assertThat(r.slots().get(s).leafCount()).isEqualTo(got.size());
        total += got.size();
      }
      assertThat(total).isEqualTo(n);
      // two iterators over different slots interleaved: independent cursors
      try (TreeFileReader.LeafIterator a = r.leaves(0); TreeFileReader.LeafIterator b = r.leaves(1)) {
        for (int i = 0; i < 10; i++) {
          assertThat(a.next()).isEqualTo(expected.get(0).get(i));
          assertThat(b.next()).isEqualTo(expected.get(1).get(i));
        }
      }
    }

    // Corrupt one byte in the middle of slot 2's leaves: open does not read leaves, so it
    // succeeds; slot 2 fails when iterated, other slots still read correctly.
    SlotSummary victim;
    try (TreeFileReader r = TreeFileReader.open(file)) {
      victim = r.slots().get(2);
    }
    flipByte(file, victim.leavesOffset() + victim.leavesLength() / 2);
    try (TreeFileReader r = TreeFileReader.open(file)) {
      assertThat(r.root()).isEqualTo(root);
      assertThat(r.summary().leafCount()).isEqualTo(n);
      assertThat(slotLeaves(r, 0)).containsExactlyElementsOf(expected.get(0));
      assertThat(slotLeaves(r, 3)).containsExactlyElementsOf(expected.get(3));
      assertThatThrownBy(() -> slotLeaves(r, 2))
          .isInstanceOf(UncheckedIOException.class)
          .hasCauseInstanceOf(CorruptTreeException.class);
      assertThatThrownBy(r::verifyAll).isInstanceOf(CorruptTreeException.class);
    }
  }

  @Test
  void slotWithExactlyOneLeafAndPageSizedSlotsAreNotEmpty() throws IOException {
    // seed off-by-one: a slot whose size equals the page size looked empty
    for (int leaves : new int[] {1, 2, 99, 100, 101, 200}) {
      Path file = dir.resolve("one-" + leaves).resolve("tree.bin");
      List<TreeLeaf> expected = new ArrayList<>();
      try (TreeFileWriter w = new TreeFileWriter(file.resolveSibling("build-x"), 1)) {
        for (int i = 0; i < leaves; i++) {
          String e = String.format("g/n/%04d", i);
          TreeLeaf l = new TreeLeaf(e.getBytes(StandardCharsets.UTF_8), sha(e));
          w.add(l.entityUtf8(), l.sha());
          expected.add(l);
        }
        w.finish(file, new TreeHeader(G, 0, 1, 1, 1));
      }
      try (TreeFileReader r = TreeFileReader.open(file)) {
        assertThat(r.slots()).hasSize(1);
        assertThat(r.slots().get(0).leafCount()).isEqualTo(leaves);
        assertThat(slotLeaves(r, 0)).as("%d leaves", leaves).containsExactlyElementsOf(expected);
        assertThat(r.verifyAll()).isEqualTo(leaves);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // The right snapshot items
  // ---------------------------------------------------------------------------------------------

  @Test
  void aTreeHoldsExactlyItsSnapshotAndLaterWritesWaitForTheNextBuild() throws IOException {
    open();
    Map<String, byte[]> expected = new TreeMap<>(UTF8_ORDER);
    List<PropertyRecord> batch = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      PropertyRecord r = live(key(G, "svc", "k" + i), 100 + i, i64("n", i));
      batch.add(r);
      expected.put(r.key().entity(), r.sha());
    }
    putAll(store, 0, batch);
    BuildResult b1 = trees.build(G, 0, false);
    assertThat(b1.outcome()).isEqualTo(Outcome.BUILT);
    assertThat(leafMap(trees, G, 0)).containsExactlyEntriesOf(expected);

    ServedTree held = trees.acquire(G, 0).orElseThrow();
    toClose.add(held);
    Map<String, byte[]> afterWrites = new TreeMap<>(expected);
    for (int i = 0; i < 10; i++) {
      PropertyRecord r = live(key(G, "svc", "new" + i), 1_000 + i, i64("n", i));
      put(store, 0, r);
      afterWrites.put(r.key().entity(), r.sha());
    }
    for (int i = 0; i < 5; i++) {
      PropertyRecord r = live(key(G, "svc", "k" + i), 2_000 + i, i64("n", -i));
      put(store, 0, r);
      afterWrites.put(r.key().entity(), r.sha());
    }

    // not built yet: the served tree still is the one of the first snapshot
    assertThat(trees.summary(G, 0).orElseThrow().root()).isEqualTo(b1.summary().root());
    assertThat(trees.summary(G, 0).orElseThrow().leafCount()).isEqualTo(50);
    assertThat(leafMap(trees, G, 0)).containsExactlyEntriesOf(expected);

    BuildResult b2 = trees.build(G, 0, false);
    assertThat(b2.outcome()).isEqualTo(Outcome.BUILT);
    assertThat(b2.snapshotId()).isGreaterThan(b1.snapshotId());
    assertThat(b2.summary().leafCount()).isEqualTo(60);
    assertThat(leafMap(trees, G, 0)).containsExactlyEntriesOf(afterWrites);

    // a session holding the old tree keeps reading the old snapshot, though the file was replaced
    Map<String, byte[]> old = new TreeMap<>(UTF8_ORDER);
    for (TreeLeaf l : allLeaves(held)) {
      old.put(l.entity(), l.sha());
    }
    assertThat(old).containsExactlyEntriesOf(expected);
    assertThat(held.summary().header().snapshotId()).isEqualTo(b1.snapshotId());
  }

  @Test
  void buildsDuringConcurrentWritesSeeExactlyTheirCommit() throws Exception {
    long seed = 0x5EED_0001L;
    Random rnd = new Random(seed);
    open();
    int total = 1_500;
    List<PropertyRecord> records = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      // keys in random order so writes land all over the key space
      records.add(live(key(G, "svc", Long.toHexString(rnd.nextLong()) + "-" + i), 1_000 + i, i64("n", i)));
    }
    Map<String, byte[]> written = new HashMap<>();
    records.forEach(r -> written.put(r.key().entity(), r.sha()));
    AtomicInteger acked = new AtomicInteger();
    CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
      for (PropertyRecord r : records) {
        put(store, 0, r);
        acked.incrementAndGet();
      }
    });
    List<String> problems = new CopyOnWriteArrayList<>();
    int builds = 0;
    long lastSnap = -1;
    while (!writer.isDone() || builds < 2) {
      int before = acked.get();
      BuildResult b = trees.build(G, 0, false);
      int after = acked.get();
      builds++;
      if (b.outcome() == Outcome.EMPTY && before == 0) {
        continue;
      }
      if (b.outcome() == Outcome.UNCHANGED) {
        continue;
      }
      assertThat(b.outcome()).as("seed %d build %d: %s", seed, builds, b.message()).isEqualTo(Outcome.BUILT);
      assertThat(b.snapshotId()).as("seed %d", seed).isGreaterThan(lastSnap);
      lastSnap = b.snapshotId();
      Map<String, byte[]> leaves = leafMap(trees, G, 0);
      // everything acknowledged before the build is in it; nothing after the build can be
      for (int i = 0; i < before; i++) {
        if (!leaves.containsKey(records.get(i).key().entity())) {
          problems.add("build " + builds + " misses " + records.get(i).key() + " acknowledged before it");
        }
      }
      if (leaves.size() > after + 1) {
        problems.add("build " + builds + " has " + leaves.size() + " leaves, only " + after + " acked after it");
      }
      leaves.forEach((e, s) -> {
        if (!Arrays.equals(written.get(e), s)) {
          problems.add("build leaf " + e + " has a hash that was never written");
        }
      });
    }
    writer.join();
    assertThat(problems).as("seed %d", seed).isEmpty();

    // The last build's commit is still the newest commit: the tree must equal it exactly,
    // reading the stored fields (not the doc values the scanner uses).
    BuildResult last = trees.build(G, 0, true);
    ShardIndex idx = store.existingShard(G, 0);
    Map<String, byte[]> inCommit = new TreeMap<>(UTF8_ORDER);
    try (FSDirectory d = FSDirectory.open(idx.directory()); DirectoryReader r = DirectoryReader.open(d)) {
      assertThat(r.getIndexCommit().getGeneration()).isEqualTo(last.snapshotId());
      for (LeafReaderContext ctx : r.leaves()) {
        StoredFields sf = ctx.reader().storedFields();
        Bits live = ctx.reader().getLiveDocs();
        for (int doc = 0; doc < ctx.reader().maxDoc(); doc++) {
          if (live == null || live.get(doc)) {
            dev.arbor.property.PropertyRecord rec = DocumentCodec.fromStored(sf, doc);
            inCommit.put(rec.key().entity(), rec.sha());
          }
        }
      }
    }
    assertThat(inCommit).hasSize(total);
    assertThat(leafMap(trees, G, 0)).as("seed %d", seed).containsExactlyEntriesOf(inCommit);
  }

  // ---------------------------------------------------------------------------------------------
  // The single / last property is never lost
  // ---------------------------------------------------------------------------------------------

  @Test
  void aLonePropertyIsInTheTree() throws IOException {
    open();
    RepairTrees oneSlot = new RepairTrees(dir.resolve("one-slot"), store, 1);
    toClose.add(oneSlot);
    PropertyRecord r = live(key(G, "svc", "only"), 5, str("a", "b"));
    put(store, 0, r);

    assertThat(trees.build(G, 0, false).summary().leafCount()).isEqualTo(1);
    assertThat(oneSlot.build(G, 0, false).summary().leafCount()).isEqualTo(1);

    assertThat(allLeaves(trees, G, 0)).containsExactly(new TreeLeaf(r.key().entityUtf8(), r.sha()));
    assertThat(allLeaves(oneSlot, G, 0)).containsExactly(new TreeLeaf(r.key().entityUtf8(), r.sha()));
  }

  @Test
  void theLastEntityInKeyOrderIsInTheTreeAcrossSegmentsAndAsATombstone() throws IOException {
    open();
    RepairTrees oneSlot = new RepairTrees(dir.resolve("one-slot"), store, 1);
    toClose.add(oneSlot);
    // the greatest entity goes to the oldest segment; newer segments hold smaller keys only
    PropertyRecord last = live(key(G, "svc", "\uD83D\uDE00-last"), 1, str("a", "z"));
    put(store, 0, last);
    store.checkpoint();
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      put(store, 0, live(key(G, "svc", "m" + i), 2 + i, str("a", "m")));
      expected.add(G + "/svc/m" + i);
      if (i % 10 == 9) {
        store.checkpoint();
      }
    }
    PropertyRecord first = live(key(G, "svc", "!first"), 100, str("a", "a"));
    put(store, 0, first);
    // and the last one is deleted: a tombstone is still a leaf
    PropertyRecord lastDeleted = live(key(G, "svc", "\uD83D\uDE00-last"), 200, str("a", "z")).tombstone(300);
    put(store, 0, lastDeleted);
    expected.add(first.key().entity());
    expected.add(last.key().entity());
    expected.sort(UTF8_ORDER);

    oneSlot.build(G, 0, false);
    trees.build(G, 0, false);

    List<TreeLeaf> leaves = allLeaves(oneSlot, G, 0);
    assertThat(leaves.stream().map(TreeLeaf::entity).toList()).containsExactlyElementsOf(expected);
    assertThat(leaves.get(leaves.size() - 1)).isEqualTo(new TreeLeaf(lastDeleted.key().entityUtf8(), lastDeleted.sha()));
    assertThat(leaves.get(0).entity()).isEqualTo(first.key().entity());
    assertThat(leafMap(trees, G, 0)).containsKeys(expected.toArray(String[]::new)).hasSize(expected.size());
  }

  // ---------------------------------------------------------------------------------------------
  // Each build uses its own spill location
  // ---------------------------------------------------------------------------------------------

  @Test
  void buildsLeaveNoSpillFilesAndStaleOnesAreRemovedAtLoad() throws IOException {
    open();
    List<PropertyRecord> batch = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      batch.add(live(key(G, "svc", "k" + i), i + 1, i64("n", i)));
    }
    putAll(store, 0, batch);
    Path shardDir = trees.shardDir(G, 0);
    assertThat(trees.build(G, 0, false).outcome()).isEqualTo(Outcome.BUILT);
    assertThat(buildDirs(shardDir)).isEmpty();
    put(store, 0, live(key(G, "svc", "k100"), 1_000, i64("n", 100)));
    BuildResult second = trees.build(G, 0, false);
    assertThat(second.summary().leafCount()).isEqualTo(101);
    assertThat(buildDirs(shardDir)).isEmpty();

    // a crash mid-build leaves a spill directory (with junk leaves) and a temp tree
    Path stale = Files.createDirectories(shardDir.resolve("build-123456"));
    Files.write(stale.resolve("slot-0.spill"), new byte[] {0, 0, 0, 9, 'g', '/', 'x', '/', 'j', 'u', 'n', 'k', '!'});
    Files.write(shardDir.resolve("tree.bin.tmp"), "half a tree".getBytes(StandardCharsets.UTF_8));

    // a build while the leftovers exist does not pick them up
    BuildResult forced = trees.build(G, 0, true);
    assertThat(forced.summary().root()).isEqualTo(second.summary().root());
    assertThat(forced.summary().leafCount()).isEqualTo(101);
    assertThat(stale).isDirectory(); // not its own: left for loadExisting

    trees.close();
    RepairTrees reloaded = new RepairTrees(dir.resolve("node").resolve("repair"), store, SLOTS);
    toClose.add(reloaded);
    reloaded.loadExisting(g -> true);

    assertThat(buildDirs(shardDir)).isEmpty();
    assertThat(stale).doesNotExist();
    assertThat(reloaded.pendingRebuilds()).isEmpty();
    assertThat(reloaded.summary(G, 0).orElseThrow().root()).isEqualTo(second.summary().root());
    assertThat(allLeaves(reloaded, G, 0)).hasSize(101);
  }

  @Test
  void concurrentBuildsOfDifferentShardsDoNotShareSpillFiles() throws Exception {
    open();
    int shards = 4;
    Map<Integer, Map<String, byte[]>> expected = new HashMap<>();
    for (int s = 0; s < shards; s++) {
      expected.put(s, new TreeMap<>(UTF8_ORDER));
      List<PropertyRecord> batch = new ArrayList<>();
      for (int i = 0; i < 2_000 + 500 * s; i++) {
        // the same ids in every shard: same slots, so shared spill files would mix leaves
        PropertyRecord r = live(key(G, "svc", "k" + i), 1 + i, i64("shard", s));
        batch.add(r);
        expected.get(s).put(r.key().entity(), r.sha());
      }
      putAll(store, s, batch);
    }
    List<CompletableFuture<BuildResult>> runs = new ArrayList<>();
    for (int s = 0; s < shards; s++) {
      int shard = s;
      runs.add(CompletableFuture.supplyAsync(() -> trees.build(G, shard, false)));
    }
    for (int s = 0; s < shards; s++) {
      BuildResult r = runs.get(s).join();
      assertThat(r.outcome()).as(r.message()).isEqualTo(Outcome.BUILT);
      assertThat(leafMap(trees, G, s)).as("shard %d", s).containsExactlyEntriesOf(expected.get(s));
      assertThat(buildDirs(trees.shardDir(G, s))).isEmpty();
    }
  }

  @Test
  void concurrentBuildsOfOneShardNeverOverlap() throws Exception {
    open();
    List<PropertyRecord> batch = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      batch.add(live(key(G, "svc", "k" + i), 1 + i, i64("n", i)));
    }
    putAll(store, 0, batch);
    List<CompletableFuture<BuildResult>> runs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      runs.add(CompletableFuture.supplyAsync(() -> trees.build(G, 0, true)));
    }
    List<Outcome> outcomes = runs.stream().map(CompletableFuture::join).map(BuildResult::outcome).toList();
    assertThat(outcomes).allMatch(o -> o == Outcome.BUILT || o == Outcome.BUSY).contains(Outcome.BUILT);
    assertThat(trees.buildsBusy()).isEqualTo(outcomes.stream().filter(o -> o == Outcome.BUSY).count());
    assertThat(allLeaves(trees, G, 0)).hasSize(5_000);
    assertThat(buildDirs(trees.shardDir(G, 0))).isEmpty();
  }

  @Test
  void aFailedBuildKeepsThePreviousTreeServedAndLeavesNoSpillDirectory() throws IOException {
    open();
    for (int i = 0; i < 20; i++) {
      put(store, 0, live(key(G, "svc", "k" + i), 1 + i, i64("n", i)));
    }
    BuildResult ok = trees.build(G, 0, false);
    Map<String, byte[]> before = leafMap(trees, G, 0);
    put(store, 0, live(key(G, "svc", "k20"), 100, i64("n", 20)));

    // make the final rename fail: the tree file's name is taken by a non-empty directory
    Path tree = trees.shardDir(G, 0).resolve(RepairTrees.TREE_FILE);
    Files.delete(tree);
    Files.createDirectories(tree);
    Files.write(tree.resolve("blocker"), new byte[] {1});

    BuildResult failed = trees.build(G, 0, false);

    assertThat(failed.outcome()).isEqualTo(Outcome.FAILED);
    assertThat(trees.buildsFailed()).isEqualTo(1);
    assertThat(buildDirs(trees.shardDir(G, 0))).noneMatch(n -> n.startsWith("build-"));
    assertThat(trees.summary(G, 0).orElseThrow().root()).isEqualTo(ok.summary().root());
    assertThat(leafMap(trees, G, 0)).containsExactlyEntriesOf(before);

    TreeTestSupport.deleteRecursively(tree);
    BuildResult again = trees.build(G, 0, false);
    assertThat(again.outcome()).isEqualTo(Outcome.BUILT);
    assertThat(again.summary().leafCount()).isEqualTo(21);
  }

  // ---------------------------------------------------------------------------------------------
  // Leaf order = UTF-8 byte order of the whole entity (HAZARD §5.2: component vs whole string)
  // ---------------------------------------------------------------------------------------------

  @Test
  void leavesAreInUtf8ByteOrderOfTheWholeEntity() throws IOException {
    open();
    RepairTrees oneSlot = new RepairTrees(dir.resolve("one-slot"), store, 1);
    toClose.add(oneSlot);
    String[] names = {"n", "n-x", "n.x", "n0", "m", "n_"};
    String[] ids = {
      "a", "a-b", "a.b", "a/b", "a/b/c", "a0", "b", "A", "\u00e9", "\uFF21", "\uD83D\uDE00", "a b", "a\u0001", "-", "."
    };
    List<PropertyRecord> records = new ArrayList<>();
    long rev = 1;
    for (String n : names) {
      for (String id : ids) {
        records.add(live(key(G, n, id), rev++, str("t", id)));
      }
    }
    List<String> entities = records.stream().map(r -> r.key().entity()).toList();
    // Five segments, neighbours in any order land in different segments: the k-way merge over
    // the segments (not only Lucene's per-segment sort) has to use the byte order.
    List<PropertyRecord> byBytes = new ArrayList<>(records);
    byBytes.sort(Comparator.comparing((PropertyRecord r) -> r.key().entity(), UTF8_ORDER));
    for (int seg = 0; seg < 5; seg++) {
      List<PropertyRecord> part = new ArrayList<>();
      for (int i = seg; i < byBytes.size(); i += 5) {
        part.add(byBytes.get(i));
      }
      putAll(store, 0, part);
      store.checkpoint();
    }
    assertThat(store.existingShard(G, 0).numDocs()).isEqualTo(records.size());
    List<String> utf8Sorted = new ArrayList<>(entities);
    utf8Sorted.sort(UTF8_ORDER);
    // the data really tells the orders apart
    List<String> utf16Sorted = new ArrayList<>(entities);
    utf16Sorted.sort(Comparator.naturalOrder());
    List<String> componentSorted = new ArrayList<>(entities);
    componentSorted.sort(Comparator.comparing((String e) -> EntityKey.parse(e).name(), UTF8_ORDER)
        .thenComparing(e -> EntityKey.parse(e).id(), UTF8_ORDER));
    assertThat(utf16Sorted).isNotEqualTo(utf8Sorted);
    assertThat(componentSorted).isNotEqualTo(utf8Sorted);

    oneSlot.build(G, 0, false);
    trees.build(G, 0, false);

    assertThat(allLeaves(oneSlot, G, 0).stream().map(TreeLeaf::entity).toList()).containsExactlyElementsOf(utf8Sorted);
    try (ServedTree t = trees.acquire(G, 0).orElseThrow()) {
      int total = 0;
      for (SlotSummary s : t.summary().slots()) {
        List<String> got = slotLeaves(t, s.index()).stream().map(TreeLeaf::entity).toList();
        List<String> want = utf8Sorted.stream().filter(e -> TreeHasher.slotOf(e, SLOTS) == s.index()).toList();
        assertThat(got).as("slot %d", s.index()).containsExactlyElementsOf(want);
        total += got.size();
      }
      assertThat(total).isEqualTo(entities.size());
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Per-slot spill state is reset between groups (seed: one file per group, shared shard dir)
  // ---------------------------------------------------------------------------------------------

  @Test
  void eachGroupsTreeHoldsOnlyItsOwnLeaves() throws IOException {
    open();
    RepairTrees fewSlots = new RepairTrees(dir.resolve("few"), store, 4);
    toClose.add(fewSlots);
    Map<String, Map<String, byte[]>> expected = new LinkedHashMap<>();
    String[] groups = {"a", "b", "c-group"};
    int[] sizes = {40, 7, 1};
    for (int gi = 0; gi < groups.length; gi++) {
      Map<String, byte[]> m = new TreeMap<>(UTF8_ORDER);
      List<PropertyRecord> batch = new ArrayList<>();
      for (int i = 0; i < sizes[gi]; i++) {
        // same names and ids in every group: only the group prefix differs
        PropertyRecord r = live(key(groups[gi], "svc", "id" + i), 1 + i, i64("n", i));
        batch.add(r);
        m.put(r.key().entity(), r.sha());
      }
      putAll(store, 0, batch);
      expected.put(groups[gi], m);
    }
    store.shard("empty", 0);

    for (RepairTrees t : List.of(trees, fewSlots)) {
      for (String g : groups) {
        BuildResult r = t.build(g, 0, false);
        assertThat(r.summary().leafCount()).as("%s with %d slots", g, t.slotCount()).isEqualTo(expected.get(g).size());
      }
      assertThat(t.build("empty", 0, false).summary().root()).isEqualTo(TreeHasher.emptyRoot(t.slotCount()));
      // rebuild the big group after the small ones, then the small ones again
      t.build("a", 0, true);
      t.build("b", 0, true);
      for (String g : groups) {
        assertThat(leafMap(t, g, 0)).as("%s with %d slots", g, t.slotCount()).containsExactlyEntriesOf(expected.get(g));
        assertThat(buildDirs(t.shardDir(g, 0))).isEmpty();
      }
      assertThat(t.summary("empty", 0).orElseThrow().leafCount()).isZero();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // HAZARD §5.3: a shard that becomes empty keeps its old tree; a shorter rebuild keeps old bytes
  // ---------------------------------------------------------------------------------------------

  @Test
  void aShardThatBecomesEmptyLosesItsTreeFile() throws IOException {
    open();
    List<PropertyRecord> rs = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      PropertyRecord r = live(key(G, "svc", "k" + i), 10 + i, str("a", "b"));
      put(store, 0, r);
      rs.add(r);
    }
    assertThat(trees.build(G, 0, false).outcome()).isEqualTo(Outcome.BUILT);
    Path tree = trees.shardDir(G, 0).resolve(RepairTrees.TREE_FILE);
    assertThat(tree).isRegularFile();
    for (PropertyRecord r : rs) {
      put(store, 0, r.tombstone(1_000));
    }
    store.purgeTombstones(1_000);

    BuildResult r = trees.build(G, 0, false);

    assertThat(r.outcome()).as(r.message()).isEqualTo(Outcome.EMPTY);
    assertThat(tree).doesNotExist();
    assertThat(r.summary().root()).isEqualTo(TreeHasher.emptyRoot(SLOTS));
    BuildState st = BuildStateFile.read(trees.shardDir(G, 0).resolve(RepairTrees.STATE_FILE)).orElseThrow();
    assertThat(st.leafCount()).isZero();
    assertThat(st.root()).isEqualTo(TreeHasher.hex(TreeHasher.emptyRoot(SLOTS)));
    assertThat(st.snapshotId()).isEqualTo(r.snapshotId());

    trees.close();
    RepairTrees reloaded = new RepairTrees(dir.resolve("node").resolve("repair"), store, SLOTS);
    toClose.add(reloaded);
    reloaded.loadExisting(g -> true);
    assertThat(reloaded.pendingRebuilds()).isEmpty();
    assertThat(reloaded.summary(G, 0).orElseThrow().root()).isEqualTo(TreeHasher.emptyRoot(SLOTS));
    assertThat(reloaded.build(G, 0, false).outcome()).isEqualTo(Outcome.UNCHANGED);
  }

  @Test
  void aShorterRebuildReplacesTheWholeFile() throws IOException {
    open();
    List<PropertyRecord> rs = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      rs.add(live(key(G, "svc", "k" + i), 10 + i, str("payload", "x".repeat(50))));
    }
    putAll(store, 0, rs);
    trees.build(G, 0, false);
    Path tree = trees.shardDir(G, 0).resolve(RepairTrees.TREE_FILE);
    long bigSize = Files.size(tree);
    Map<String, byte[]> keep = new TreeMap<>(UTF8_ORDER);
    List<PropertyRecord> deletes = new ArrayList<>();
    for (int i = 0; i < rs.size(); i++) {
      if (i % 30 == 0) {
        keep.put(rs.get(i).key().entity(), rs.get(i).sha());
      } else {
        deletes.add(rs.get(i).tombstone(5_000));
      }
    }
    putAll(store, 0, deletes);
    store.purgeTombstones(5_000);

    BuildResult r = trees.build(G, 0, false);

    assertThat(r.summary().leafCount()).isEqualTo(10);
    assertThat(Files.size(tree)).isLessThan(bigSize);
    try (TreeFileReader reader = TreeFileReader.open(tree)) {
      assertThat(reader.summary().leafCount()).isEqualTo(10);
      assertThat(reader.root()).isEqualTo(r.summary().root());
      assertThat(reader.verifyAll()).isEqualTo(10);
    }
    assertThat(leafMap(trees, G, 0)).containsExactlyEntriesOf(keep);
  }

  // ---------------------------------------------------------------------------------------------

  static void flipByte(Path file, long pos) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, pos);
      b.flip();
      byte v = b.get();
      ch.write(ByteBuffer.wrap(new byte[] {(byte) (v ^ 0x5A)}), pos);
    }
  }
}
