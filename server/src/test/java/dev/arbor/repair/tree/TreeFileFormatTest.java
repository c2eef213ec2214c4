package dev.arbor.repair.tree;

import static dev.arbor.repair.tree.TreeTestSupport.allLeaves;
import static dev.arbor.repair.tree.TreeTestSupport.bySlot;
import static dev.arbor.repair.tree.TreeTestSupport.expectedRoot;
import static dev.arbor.repair.tree.TreeTestSupport.expectedSlotHash;
import static dev.arbor.repair.tree.TreeTestSupport.i64;
import static dev.arbor.repair.tree.TreeTestSupport.key;
import static dev.arbor.repair.tree.TreeTestSupport.leafMap;
import static dev.arbor.repair.tree.TreeTestSupport.live;
import static dev.arbor.repair.tree.TreeTestSupport.putAll;
import static dev.arbor.repair.tree.TreeTestSupport.slotLeaves;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.property.PropertyRecord;
import dev.arbor.repair.tree.BuildResult.Outcome;
import dev.arbor.storage.PropertyStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The tree file: round trip, hashing rules, and detection of every kind of damage. */
class TreeFileFormatTest {
  static final long SEED = 0x7EEF11E5L;

  @TempDir Path dir;

  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  /** Random leaves (unique entities, random lengths incl. multi-byte UTF-8), in entity order. */
  static List<TreeLeaf> randomLeaves(Random rnd, int n) {
    Set<String> seen = new HashSet<>();
    List<TreeLeaf> out = new ArrayList<>();
    String alphabet = "abcXYZ019-._/ \u00e9\u4e2d\uD83D\uDE00";
    while (out.size() < n) {
      StringBuilder id = new StringBuilder();
      int len = 1 + rnd.nextInt(rnd.nextInt(10) == 0 ? 300 : 20);
      for (int i = 0; i < len; i++) {
        int c = rnd.nextInt(alphabet.length());
        if (Character.isHighSurrogate(alphabet.charAt(c))) {
          id.append(alphabet, c, c + 2);
        } else if (Character.isLowSurrogate(alphabet.charAt(c))) {
          id.append(alphabet, c - 1, c + 1);
        } else {
          id.append(alphabet.charAt(c));
        }
      }
      String e = "grp/name" + rnd.nextInt(3) + "/" + id;
      if (seen.add(e)) {
        byte[] sha = new byte[64];
        rnd.nextBytes(sha);
        out.add(new TreeLeaf(e.getBytes(StandardCharsets.UTF_8), sha));
      }
    }
    out.sort((a, b) -> Arrays.compareUnsigned(a.entityUtf8(), b.entityUtf8()));
    return out;
  }

  static TreeSummary write(Path file, List<TreeLeaf> leaves, TreeHeader header) throws IOException {
    try (TreeFileWriter w = new TreeFileWriter(file.resolveSibling("build-" + System.nanoTime()), header.slotCount())) {
      for (TreeLeaf l : leaves) {
        w.add(l.entityUtf8(), l.sha());
      }
      return w.finish(file, header);
    }
  }

  // ---------------------------------------------------------------------------------------------

  @Test
  void roundTripKeepsHeaderSlotsRootAndEveryLeafInOrder() throws IOException {
    Random rnd = new Random(SEED);
    for (int slotCount : new int[] {1, 7, 32, 256}) {
      int n = 1 + rnd.nextInt(1_500);
      List<TreeLeaf> leaves = randomLeaves(rnd, n);
      Path file = dir.resolve("rt-" + slotCount).resolve("tree.bin");
      TreeHeader header = new TreeHeader("grp-\u00e9", 3, slotCount, 1234567L + slotCount, 1_700_000_000_000L);
      String desc = "seed " + SEED + ", " + slotCount + " slots, " + n + " leaves";

      TreeSummary written = write(file, leaves, header);

      List<List<TreeLeaf>> slots = bySlot(leaves, slotCount);
      byte[] root = expectedRoot(slots);
      assertThat(written.root()).as(desc).isEqualTo(root);
      assertThat(written.leafCount()).as(desc).isEqualTo(n);
      assertThat(Files.list(file.getParent()).map(p -> p.getFileName().toString()).toList())
          .as("only the tree file remains").containsExactly("tree.bin");
      try (TreeFileReader r = TreeFileReader.open(file)) {
        assertThat(r.header()).as(desc).isEqualTo(header);
        assertThat(r.root()).as(desc).isEqualTo(root);
        assertThat(r.summary().leafCount()).as(desc).isEqualTo(n);
        assertThat(r.slots()).as(desc).hasSize(slotCount);
        int[] counts = new int[slotCount];
        byte[][] hashes = new byte[slotCount][];
        for (int s = 0; s < slotCount; s++) {
          SlotSummary ss = r.slots().get(s);
          assertThat(ss.index()).isEqualTo(s);
          assertThat(ss.leafCount()).as("%s slot %d", desc, s).isEqualTo(slots.get(s).size());
          assertThat(ss.hash()).as("%s slot %d", desc, s).isEqualTo(expectedSlotHash(slots.get(s)));
          assertThat(ss.hash()).isEqualTo(written.slots().get(s).hash());
          assertThat(slotLeaves(r, s)).as("%s slot %d", desc, s).containsExactlyElementsOf(slots.get(s));
          counts[s] = ss.leafCount();
          hashes[s] = ss.hash();
        }
        assertThat(TreeHasher.rootHash(counts, hashes)).isEqualTo(root);
        assertThat(r.verifyAll()).isEqualTo(n);
      }
    }
  }

  @Test
  void slotOfIsUnsignedXxHash64WithTheSlotSeedModSlotCount() {
    byte[] e = "g/n/id".getBytes(StandardCharsets.UTF_8);
    long h = net.jpountz.xxhash.XXHashFactory.safeInstance().hash64().hash(e, 0, e.length, 0x736c6f74L);
    for (int slots : new int[] {1, 2, 3, 32, 1000, 65536}) {
      assertThat(TreeHasher.slotOf(e, slots)).isEqualTo((int) Long.remainderUnsigned(h, slots));
      assertThat(TreeHasher.slotOf("g/n/id", slots)).isEqualTo(TreeHasher.slotOf(e, slots));
    }
    // some entity hashes are negative as signed longs: the slot must still be in range
    Random rnd = new Random(SEED);
    boolean sawNegative = false;
    for (int i = 0; i < 2_000; i++) {
      byte[] x = ("g/n/" + rnd.nextLong()).getBytes(StandardCharsets.UTF_8);
      sawNegative |= net.jpountz.xxhash.XXHashFactory.safeInstance().hash64().hash(x, 0, x.length, 0x736c6f74L) < 0;
      assertThat(TreeHasher.slotOf(x, 32)).isBetween(0, 31);
    }
    assertThat(sawNegative).isTrue();
  }

  @Test
  void writerRejectsLeavesOutOfOrderDuplicatesAndBadHashes() throws IOException {
    byte[] sha = new byte[64];
    try (TreeFileWriter w = new TreeFileWriter(dir.resolve("build-a"), 8)) {
      w.add("g/n/b".getBytes(StandardCharsets.UTF_8), sha);
      assertThatThrownBy(() -> w.add("g/n/a".getBytes(StandardCharsets.UTF_8), sha))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("g/n/a");
      assertThatThrownBy(() -> w.add("g/n/b".getBytes(StandardCharsets.UTF_8), sha))
          .as("duplicate entity").isInstanceOf(IllegalArgumentException.class);
      // UTF-8 byte order, not UTF-16: U+1F600 sorts after U+FF21
      w.add("g/n/\uFF21".getBytes(StandardCharsets.UTF_8), sha);
      w.add("g/n/\uD83D\uDE00".getBytes(StandardCharsets.UTF_8), sha);
      assertThatThrownBy(() -> w.add("g/n/\uFF22".getBytes(StandardCharsets.UTF_8), sha))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> w.add("g/n/z\uD83D\uDE00".getBytes(StandardCharsets.UTF_8), new byte[63]))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> w.finish(dir.resolve("tree.bin"), new TreeHeader("g", 0, 4, 1, 1)))
          .as("header slot count differs").isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(dir.resolve("build-a")).doesNotExist();
    assertThatThrownBy(() -> new TreeFileWriter(dir.resolve("build-b"), 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void truncatedFilesFailAtOpen() throws IOException {
    Random rnd = new Random(SEED + 1);
    Path file = dir.resolve("tree.bin");
    write(file, randomLeaves(rnd, 300), new TreeHeader("g", 0, 16, 9, 9));
    byte[] bytes = Files.readAllBytes(file);
    List<Integer> cuts = new ArrayList<>(List.of(1, 2, 4, 8, bytes.length - 1, bytes.length));
    for (int i = 0; i < 60; i++) {
      cuts.add(1 + rnd.nextInt(bytes.length));
    }
    Path damaged = dir.resolve("damaged.bin");
    for (int cut : cuts) {
      Files.write(damaged, Arrays.copyOf(bytes, bytes.length - cut));
      assertThatThrownBy(() -> TreeFileReader.open(damaged).close())
          .as("seed %d: cut %d of %d bytes", SEED + 1, cut, bytes.length)
          .isInstanceOf(CorruptTreeException.class);
    }
    // a tree followed by stale bytes of an older, longer file (upstream HAZARD §5.3)
    byte[] extended = Arrays.copyOf(bytes, bytes.length + 100);
    System.arraycopy(bytes, bytes.length - 100, extended, bytes.length, 100);
    Files.write(damaged, extended);
    assertThatThrownBy(() -> TreeFileReader.open(damaged).close()).isInstanceOf(CorruptTreeException.class);
  }

  @Test
  void everySingleBitFlipIsDetectedAtOpenOrWhileReading() throws IOException {
    long seed = SEED + 2;
    Random rnd = new Random(seed);
    Path file = dir.resolve("tree.bin");
    List<TreeLeaf> leaves = randomLeaves(rnd, 200);
    write(file, leaves, new TreeHeader("group", 1, 8, 77, 88));
    byte[] bytes = Files.readAllBytes(file);
    Path damaged = dir.resolve("damaged.bin");
    int atOpen = 0;
    int whileReading = 0;
    int trials = 600;
    for (int t = 0; t < trials; t++) {
      // every tenth trial hits the last 200 bytes (footer, slot table tail) on purpose
      int pos = t % 10 == 0 ? bytes.length - 1 - rnd.nextInt(Math.min(200, bytes.length)) : rnd.nextInt(bytes.length);
      int bit = rnd.nextInt(8);
      byte[] copy = bytes.clone();
      copy[pos] ^= (byte) (1 << bit);
      Files.write(damaged, copy);
      String desc = "seed " + seed + ": bit " + bit + " of byte " + pos + " of " + bytes.length;
      TreeFileReader r;
      try {
        r = TreeFileReader.open(damaged);
      } catch (CorruptTreeException expected) {
        atOpen++;
        continue;
      }
      try (r) {
        assertThatThrownBy(r::verifyAll).as(desc + " (open succeeded)").isInstanceOf(CorruptTreeException.class);
        // and iterating the damaged slot by hand fails too, as an UncheckedIOException
        boolean failed = false;
        for (SlotSummary s : r.slots()) {
          try {
            slotLeaves(r, s.index());
          } catch (UncheckedIOException e) {
            assertThat(e).hasCauseInstanceOf(CorruptTreeException.class);
            failed = true;
          }
        }
        assertThat(failed).as(desc).isTrue();
        whileReading++;
      }
    }
    assertThat(atOpen + whileReading).isEqualTo(trials);
    // the sample hit both the leaf section and the checked metadata
    assertThat(atOpen).isPositive();
    assertThat(whileReading).isPositive();
  }

  @Test
  void garbageAndEmptyFilesAreCorrupt() throws IOException {
    Path f = dir.resolve("garbage.bin");
    Files.write(f, new byte[0]);
    assertThatThrownBy(() -> TreeFileReader.open(f)).isInstanceOf(CorruptTreeException.class);
    byte[] junk = new byte[4096];
    new Random(SEED + 3).nextBytes(junk);
    Files.write(f, junk);
    assertThatThrownBy(() -> TreeFileReader.open(f)).isInstanceOf(CorruptTreeException.class);
  }

  // ---------------------------------------------------------------------------------------------
  // RepairTrees.loadExisting never serves a damaged tree
  // ---------------------------------------------------------------------------------------------

  private Path node() {
    return dir.resolve("node");
  }

  /** Builds shards 0 and 1 of group g, closes everything; returns the expected leaves of shard 0. */
  private Map<String, byte[]> buildAndClose() throws IOException {
    try (PropertyStore store = PropertyStore.open(node(), g -> true);
        RepairTrees trees = new RepairTrees(node().resolve("repair"), store, 32)) {
      List<PropertyRecord> rs = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        rs.add(live(key("g", "svc", "k" + i), 1 + i, i64("n", i)));
      }
      putAll(store, 0, rs);
      putAll(store, 1, List.of(live(key("g", "svc", "other"), 1, i64("n", 1))));
      assertThat(trees.build("g", 0, false).outcome()).isEqualTo(Outcome.BUILT);
      assertThat(trees.build("g", 1, false).outcome()).isEqualTo(Outcome.BUILT);
      return leafMap(trees, "g", 0);
    }
  }

  private void assertDamageIsNotServedAndRebuilt(String what, Consumer<Path> damage) throws IOException {
    TreeTestSupport.deleteRecursively(node());
    Map<String, byte[]> expected = buildAndClose();
    Path shard0 = node().resolve("repair").resolve("g").resolve("shard-0");
    damage.accept(shard0);

    PropertyStore store = PropertyStore.open(node(), g -> true);
    RepairTrees trees = new RepairTrees(node().resolve("repair"), store, 32);
    try {
      trees.loadExisting(g -> true);

      assertThat(trees.summary("g", 0)).as(what).isEmpty();
      assertThat(trees.acquire("g", 0)).as(what).isEmpty();
      assertThat(shard0.resolve("tree.bin")).as(what).doesNotExist();
      assertThat(shard0.resolve("state.json")).as(what).doesNotExist();
      assertThat(trees.pendingRebuilds()).as(what).containsExactly("g/0");
      // the undamaged shard is served as before
      assertThat(trees.summary("g", 1)).as(what).isPresent();

      BuildResult r = trees.build("g", 0, false);
      assertThat(r.outcome()).as(what).isEqualTo(Outcome.BUILT);
      assertThat(leafMap(trees, "g", 0)).as(what).containsExactlyEntriesOf(expected);
      assertThat(trees.pendingRebuilds()).as(what).isEmpty();
      try (TreeFileReader reader = TreeFileReader.open(shard0.resolve("tree.bin"))) {
        assertThat(reader.verifyAll()).isEqualTo(expected.size());
      }
    } finally {
      trees.close();
      store.close();
    }
  }

  @Test
  void loadExistingRejectsDamagedTreesAndStates() throws IOException {
    Random rnd = new Random(SEED + 4);
    assertDamageIsNotServedAndRebuilt("truncated tree", d -> truncate(d.resolve("tree.bin"), 1 + rnd.nextInt(500)));
    assertDamageIsNotServedAndRebuilt("leaf byte flipped", d -> flipAt(d.resolve("tree.bin"), 200 + rnd.nextInt(2_000)));
    assertDamageIsNotServedAndRebuilt("footer byte flipped", d -> flipAt(d.resolve("tree.bin"), -1 - rnd.nextInt(40)));
    assertDamageIsNotServedAndRebuilt("tree replaced by garbage", d -> writeBytes(d.resolve("tree.bin"), "nope".getBytes()));
    assertDamageIsNotServedAndRebuilt("garbage state", d -> writeBytes(d.resolve("state.json"), "{\"format\": 1, \"gro".getBytes()));
    assertDamageIsNotServedAndRebuilt("binary state", d -> writeBytes(d.resolve("state.json"), new byte[] {0, 1, 2, (byte) 0xff}));
    assertDamageIsNotServedAndRebuilt("state of another format", d -> editState(d, s -> s.replace("\"format\" : 1", "\"format\" : 99")));
    assertDamageIsNotServedAndRebuilt("state with another root", d -> editState(d, s -> s.replaceAll("\"root\" : \"[0-9a-f]+\"", "\"root\" : \"" + "0".repeat(128) + "\"")));
    // a crash between renaming the new tree and writing its state leaves the previous state
    assertDamageIsNotServedAndRebuilt("state of the previous build", d -> editState(d, s -> {
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"snapshotId\" : (\\d+)").matcher(s);
      if (!m.find()) {
        throw new AssertionError("no snapshotId in state:\n" + s);
      }
      return m.replaceFirst("\"snapshotId\" : " + (Long.parseLong(m.group(1)) - 1));
    }));
    assertDamageIsNotServedAndRebuilt("state with another leaf count", d -> editState(d, s -> s.replace("\"leafCount\" : 200", "\"leafCount\" : 199")));
    assertDamageIsNotServedAndRebuilt("state saying empty", d -> editState(d, s -> s.replace("\"leafCount\" : 200", "\"leafCount\" : 0")));
    assertDamageIsNotServedAndRebuilt("state of another shard's tree", d -> {
      try {
        Path other = d.resolveSibling("shard-1");
        Files.copy(other.resolve("tree.bin"), d.resolve("tree.bin"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(other.resolve("state.json"), d.resolve("state.json"), StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    assertDamageIsNotServedAndRebuilt("state missing", d -> delete(d.resolve("state.json")));
  }

  @Test
  void loadExistingWithAnotherSlotCountRebuilds() throws IOException {
    Map<String, byte[]> expected = buildAndClose();
    try (PropertyStore store = PropertyStore.open(node(), g -> true);
        RepairTrees trees = new RepairTrees(node().resolve("repair"), store, 16)) {
      trees.loadExisting(g -> true);
      assertThat(trees.summary("g", 0)).isEmpty();
      assertThat(trees.pendingRebuilds()).containsExactlyInAnyOrder("g/0", "g/1");
      assertThat(trees.build("g", 0, false).summary().slots()).hasSize(16);
      assertThat(leafMap(trees, "g", 0)).containsExactlyEntriesOf(expected);
    }
  }

  @Test
  void loadExistingRemovesTreesOfGroupsThatNoLongerExist() throws IOException {
    buildAndClose();
    try (PropertyStore store = PropertyStore.open(node(), g -> true);
        RepairTrees trees = new RepairTrees(node().resolve("repair"), store, 32)) {
      trees.loadExisting(g -> !g.equals("g"));
      assertThat(trees.summary("g", 0)).isEmpty();
      assertThat(node().resolve("repair").resolve("g")).doesNotExist();
      assertThat(trees.pendingRebuilds()).isEmpty();
    }
  }

  /**
   * The repair directory only caches derived data: junk in it (left by an operator, a backup tool
   * or a half-finished copy) must not stop the node from starting.
   */
  private void assertLoadSurvives(String what, IoConsumer<Path> junk) throws IOException {
    TreeTestSupport.deleteRecursively(node());
    Map<String, byte[]> expected = buildAndClose();
    junk.accept(node().resolve("repair").resolve("g"));
    try (PropertyStore store = PropertyStore.open(node(), g -> true);
        RepairTrees trees = new RepairTrees(node().resolve("repair"), store, 32)) {
      trees.loadExisting(g -> true);
      assertThat(leafMap(trees, "g", 0)).as(what).containsExactlyEntriesOf(expected);
      assertThat(trees.summary("g", 1)).as(what).isPresent();
    }
  }

  interface IoConsumer<T> {
    void accept(T t) throws IOException;
  }

  @Test
  void loadExistingIgnoresStrayFiles() throws IOException {
    assertLoadSurvives("stray files", g -> {
      Files.write(g.resolve("notes.txt"), "x".getBytes(StandardCharsets.UTF_8));
      Files.write(g.getParent().resolve("stray-file"), new byte[0]);
      Files.write(g.resolve("shard-0").resolve("unknown.dat"), new byte[] {1});
    });
  }

  @Test
  void loadExistingSurvivesAShardDirectoryWithoutANumber() throws IOException {
    assertLoadSurvives("directory shard-old", g -> Files.createDirectories(g.resolve("shard-old")));
  }

  @Test
  void loadExistingSurvivesAFileNamedLikeAShardDirectory() throws IOException {
    assertLoadSurvives("regular file shard-7", g -> Files.write(g.resolve("shard-7"), new byte[] {1, 2, 3}));
  }

  @Test
  void aMissingTreeIsOnlyServedWhenTheStateSaysEmpty() throws IOException {
    buildAndClose();
    Path shard0 = node().resolve("repair").resolve("g").resolve("shard-0");
    delete(shard0.resolve("tree.bin"));
    try (PropertyStore store = PropertyStore.open(node(), g -> true);
        RepairTrees trees = new RepairTrees(node().resolve("repair"), store, 32)) {
      trees.loadExisting(g -> true);
      assertThat(trees.summary("g", 0)).as("state says 200 leaves, file is gone").isEmpty();
      assertThat(trees.pendingRebuilds()).containsExactly("g/0");
      assertThat(trees.build("g", 0, false).summary().leafCount()).isEqualTo(200);
      assertThat(allLeaves(trees, "g", 0)).hasSize(200);
    }
  }

  // ---------------------------------------------------------------------------------------------

  private static void truncate(Path f, int cut) {
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      ch.truncate(Math.max(0, ch.size() - cut));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Flips all bits of one byte; a negative position counts from the end. */
  private static void flipAt(Path f, long pos) {
    try {
      long size = Files.size(f);
      long p = pos < 0 ? size + pos : Math.min(pos, size - 1);
      SeedReviewRegressionTest.flipByte(f, p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void writeBytes(Path f, byte[] b) {
    try {
      Files.write(f, b);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void delete(Path f) {
    try {
      Files.delete(f);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void editState(Path shardDir, java.util.function.UnaryOperator<String> edit) {
    try {
      // Edited inside the file's envelope and sealed again: the checks behind the checksum are under test.
      Path f = shardDir.resolve("state.json");
      String before = new String(dev.arbor.storage.format.FileFormat.unseal(Files.readAllBytes(f), f.toString(),
          BuildStateFile.KIND, BuildStateFile.FORMAT, BuildStateFile.FORMAT).body(), StandardCharsets.UTF_8);
      String after = edit.apply(before);
      if (after.equals(before)) {
        throw new AssertionError("state edit changed nothing; state is:\n" + before);
      }
      Files.write(f, dev.arbor.storage.format.FileFormat.seal(BuildStateFile.KIND, BuildStateFile.FORMAT,
          after.getBytes(StandardCharsets.UTF_8)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
