package dev.arbor.repair.tree;

import static dev.arbor.repair.tree.TreeTestSupport.UTF8_ORDER;
import static dev.arbor.repair.tree.TreeTestSupport.str;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.property.EntityKey;
import dev.arbor.property.LastWriteWins;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardWrite;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * The steps of a seeded random history of one shard (writes, deletes, repair pushes, purges) and
 * the model of what the store must hold after them: per key the record last-write-wins keeps, as
 * the store decides. The live-tree tests run it against a node they restart and crash between
 * steps, and check the tree against the model ({@link #assertTreeMatches}).
 */
final class RandomHistory {
  private final String group;
  private final int shard;
  private final Random rnd;
  private final Supplier<PropertyStore> store;
  private final Map<EntityKey, PropertyRecord> model = newModel();
  private long rev = 1_000;

  /** @param store the node's store now (it changes when the node is reopened) */
  RandomHistory(String group, int shard, Random rnd, Supplier<PropertyStore> store) {
    this.group = group;
    this.shard = shard;
    this.rnd = rnd;
    this.store = store;
  }

  /** An empty model, ordered as tree leaves are. */
  static Map<EntityKey, PropertyRecord> newModel() {
    return new TreeMap<>((a, b) -> UTF8_ORDER.compare(a.entity(), b.entity()));
  }

  /** What the store must hold now, by key. */
  Map<EntityKey, PropertyRecord> model() {
    return model;
  }

  /** The newest revision given out so far. */
  long revision() {
    return rev;
  }

  /** Reserves {@code n} revisions and returns the one before the first. */
  long takeRevisions(int n) {
    long base = rev;
    rev += n;
    return base;
  }

  /** One of the 120 keys the history writes (two names, 60 ids): enough to meet again. */
  EntityKey randomKey() {
    return new EntityKey(group, rnd.nextBoolean() ? "svc" : "svc-b", "id-" + rnd.nextInt(60));
  }

  /** Records in the model what the store decided for {@code r} (last write wins). */
  void merge(PropertyRecord r) {
    model.merge(r.key(), r, (a, b) -> LastWriteWins.beats(b, a) ? b : a);
  }

  /** A client's write of a live record at a random key. */
  void apply() {
    EntityKey k = randomKey();
    PropertyRecord r = TreeTestSupport.live(k, rev += 1 + rnd.nextInt(3), str("v", Long.toString(rnd.nextLong())));
    TreeTestSupport.putLww(store.get(), shard, r);
    merge(r);
  }

  /** A client's delete of a key the model holds; false (nothing done) when it holds none. */
  boolean delete() {
    List<EntityKey> keys = new ArrayList<>(model.keySet());
    if (keys.isEmpty()) {
      return false;
    }
    EntityKey k = keys.get(rnd.nextInt(keys.size()));
    PropertyRecord t = model.get(k).tombstoneAt(rev += 1, rev * 1_000);
    TreeTestSupport.putLww(store.get(), shard, t);
    merge(t);
    return true;
  }

  /** A batch a repair session pushes: some records lose to what is stored (older), some repeat a key. */
  void repairPush() {
    List<ShardWrite> batch = new ArrayList<>();
    for (int i = 0, n = 1 + rnd.nextInt(20); i < n; i++) {
      EntityKey k = randomKey();
      long r = rnd.nextInt(4) == 0 ? 500 + rnd.nextInt(400) : (rev += 1);
      batch.add(new ShardWrite(group, shard, TreeTestSupport.live(k, r, str("p", Integer.toString(i)))));
    }
    store.get().applyEach(batch);
    for (ShardWrite w : batch) {
      merge(w.record());
    }
  }

  /** Purges every tombstone (all are older than the cutoff); returns the ones purged. */
  List<PropertyRecord> purge() throws IOException {
    store.get().purgeTombstones(rev * 1_000);
    List<PropertyRecord> purged = model.values().stream().filter(PropertyRecord::deleted).toList();
    model.values().removeIf(PropertyRecord::deleted);
    return purged;
  }

  /**
   * The tree {@code s} (and the tree {@code trees} serves now) is the one the documented hashing
   * rules give for {@code model}: leaf for leaf, slot for slot, and root.
   */
  static void assertTreeMatches(RepairTrees trees, String group, int shard, int slots,
      Map<EntityKey, PropertyRecord> model, TreeSummary s, String when) throws IOException {
    List<TreeLeaf> expected = new ArrayList<>();
    Map<String, String> want = new TreeMap<>(UTF8_ORDER);
    for (PropertyRecord r : model.values()) {
      expected.add(new TreeLeaf(r.key().entityUtf8(), r.sha()));
      want.put(r.key().entity(), HexFormat.of().formatHex(r.sha()));
    }
    Map<String, String> got = new TreeMap<>(UTF8_ORDER);
    try (ServedTree t = trees.acquire(group, shard).orElseThrow()) {
      assertThat(t.summary().rootHex()).isEqualTo(s.rootHex());
      for (TreeLeaf l : TreeTestSupport.allLeaves(t)) {
        got.put(l.entity(), HexFormat.of().formatHex(l.sha()));
      }
    }
    assertThat(got).as("%s: the leaves a session streams", when).isEqualTo(want);
    List<List<TreeLeaf>> bySlot = TreeTestSupport.bySlot(expected, slots);
    for (int i = 0; i < slots; i++) {
      assertThat(s.slots().get(i).leafCount()).as("%s: leaves of slot %d", when, i).isEqualTo(bySlot.get(i).size());
      assertThat(HexFormat.of().formatHex(s.slots().get(i).hash())).as("%s: hash of slot %d %s", when, i, bySlot.get(i))
          .isEqualTo(HexFormat.of().formatHex(TreeTestSupport.expectedSlotHash(bySlot.get(i))));
    }
    byte[] root = TreeTestSupport.expectedRoot(bySlot);
    assertThat(s.rootHex()).as("%s: root", when).isEqualTo(HexFormat.of().formatHex(root));
    assertThat(s.leafCount()).as("%s: leaves", when).isEqualTo(model.size());
  }
}
