package dev.arbor.repair.tree;

import static dev.arbor.repair.tree.TreeTestSupport.UTF8_ORDER;
import static dev.arbor.repair.tree.TreeTestSupport.key;
import static dev.arbor.repair.tree.TreeTestSupport.leafMap;
import static dev.arbor.repair.tree.TreeTestSupport.putAll;
import static dev.arbor.repair.tree.TreeTestSupport.putLww;
import static dev.arbor.repair.tree.TreeTestSupport.str;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.repair.tree.BuildResult.Outcome;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardWrite;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Two replicas that reach the same last-write-wins state by different histories (different
 * orders, superseded versions, different segment layouts) have identical trees; any single change
 * on one of them changes its root and exactly one slot hash.
 */
class TreeEquivalenceRandomizedTest {
  static final int SLOTS = 32;
  static final int SHARDS = 2;
  static final String G = "grp";
  static final String[] NAMES = {"svc", "svc-a", "svc.b", "x"};
  static final String ID_CHARS = "abcXYZ0189-._/:~ \u00e9\u00df\u4e2d\uD83D\uDE00";

  @TempDir Path dir;

  private final List<AutoCloseable> toClose = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  static LongStream seeds() {
    return LongStream.rangeClosed(1, 20);
  }

  private record Replica(PropertyStore store, RepairTrees trees) {}

  private Replica replica(String name) throws IOException {
    PropertyStore store = PropertyStore.open(dir.resolve(name), g -> true);
    toClose.add(store);
    RepairTrees trees = new RepairTrees(dir.resolve(name).resolve("repair"), store, SLOTS);
    toClose.add(trees);
    return new Replica(store, trees);
  }

  static int shardOf(EntityKey k) {
    return ShardRouter.shardOf(k, SHARDS);
  }

  static String randomId(Random rnd) {
    StringBuilder b = new StringBuilder();
    int len = 1 + rnd.nextInt(12);
    for (int i = 0; i < len; i++) {
      int c = rnd.nextInt(ID_CHARS.length());
      char ch = ID_CHARS.charAt(c);
      if (Character.isHighSurrogate(ch)) {
        b.append(ID_CHARS, c, c + 2);
      } else if (Character.isLowSurrogate(ch)) {
        b.append(ID_CHARS, c - 1, c + 1);
      } else {
        b.append(ch);
      }
    }
    return b.toString();
  }

  static Tag[] randomTags(Random rnd) {
    int n = rnd.nextInt(5);
    List<Tag> tags = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int size = rnd.nextInt(10) == 0 ? 500 + rnd.nextInt(3_000) : rnd.nextInt(40);
      StringBuilder v = new StringBuilder();
      for (int j = 0; j < size; j++) {
        v.append((char) ('a' + rnd.nextInt(26)));
      }
      tags.add(str("t" + i, v.toString()));
    }
    return tags.toArray(Tag[]::new);
  }

  static PropertyRecord version(Random rnd, EntityKey k, long rev, boolean allowDelete) {
    PropertyRecord r = TreeTestSupport.live(k, rev, randomTags(rnd));
    if (allowDelete && rnd.nextInt(100) < 15) {
      r = r.tombstone(rev + 1 + rnd.nextInt(1_000));
    }
    return r;
  }

  /** Stores each record that beats the key's current one, in one batch (the repair write path). */
  static void putAllLww(PropertyStore store, List<PropertyRecord> rs) {
    if (!rs.isEmpty()) {
      store.applyIfNewer(rs.stream().map(r -> new ShardWrite(G, shardOf(r.key()), r)).toList());
    }
  }

  /** Builds every shard and returns the summaries (shard -> summary). */
  private static Map<Integer, TreeSummary> buildAll(Replica r, String desc) {
    Map<Integer, TreeSummary> out = new TreeMap<>();
    for (int s = 0; s < SHARDS; s++) {
      BuildResult b = r.trees().build(G, s, false);
      assertThat(b.outcome()).as("%s shard %d: %s", desc, s, b.message()).isIn(Outcome.BUILT, Outcome.EMPTY, Outcome.UNCHANGED);
      out.put(s, b.summary());
    }
    return out;
  }

  private static void assertSameTrees(Replica a, Replica b, String desc) throws IOException {
    Map<Integer, TreeSummary> sa = buildAll(a, desc + " A");
    Map<Integer, TreeSummary> sb = buildAll(b, desc + " B");
    for (int s = 0; s < SHARDS; s++) {
      // leaves first: the most readable failure
      assertThat(leafMapOrEmpty(b, s)).as("%s shard %d leaves", desc, s).containsExactlyEntriesOf(leafMapOrEmpty(a, s));
      for (int i = 0; i < SLOTS; i++) {
        SlotSummary x = sa.get(s).slots().get(i);
        SlotSummary y = sb.get(s).slots().get(i);
        assertThat(y.leafCount()).as("%s shard %d slot %d count", desc, s, i).isEqualTo(x.leafCount());
        assertThat(y.hash()).as("%s shard %d slot %d hash", desc, s, i).isEqualTo(x.hash());
      }
      assertThat(sb.get(s).rootHex()).as("%s shard %d root", desc, s).isEqualTo(sa.get(s).rootHex());
    }
  }

  private static Map<String, byte[]> leafMapOrEmpty(Replica r, int shard) throws IOException {
    return r.trees().summary(G, shard).map(TreeSummary::leafCount).orElse(0L) == 0
        ? new TreeMap<>(UTF8_ORDER)
        : leafMap(r.trees(), G, shard);
  }

  /** Applies one change to a replica and checks that exactly one slot (the key's) changed. */
  private static void assertSingleSlotChange(Replica r, PropertyRecord change, String desc) {
    int shard = shardOf(change.key());
    Map<Integer, TreeSummary> before = buildAll(r, desc + " before");
    putLww(r.store(), shard, change);
    Map<Integer, TreeSummary> after = buildAll(r, desc + " after");
    int slot = TreeHasher.slotOf(change.key().entity(), SLOTS);
    for (int s = 0; s < SHARDS; s++) {
      TreeSummary x = before.get(s);
      TreeSummary y = after.get(s);
      if (s != shard) {
        assertThat(y.rootHex()).as("%s: other shard %d untouched", desc, s).isEqualTo(x.rootHex());
        continue;
      }
      assertThat(y.rootHex()).as("%s: root of shard %d", desc, s).isNotEqualTo(x.rootHex());
      List<Integer> changed = new ArrayList<>();
      for (int i = 0; i < SLOTS; i++) {
        if (!java.util.Arrays.equals(x.slots().get(i).hash(), y.slots().get(i).hash())) {
          changed.add(i);
        }
      }
      assertThat(changed).as("%s: changed slots of shard %d", desc, s).containsExactly(slot);
    }
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void sameFinalStateGivesSameTreesAndOneChangeChangesOneSlot(long seed) throws IOException {
    Random rnd = new Random(seed);
    String desc = "seed " + seed;
    Replica a = replica("a");
    Replica b = replica("b");

    // histories: 1..3 versions per key, increasing revisions, any version may be a tombstone
    Map<EntityKey, List<PropertyRecord>> history = new LinkedHashMap<>();
    int keys = 10 + rnd.nextInt(25);
    while (history.size() < keys) {
      EntityKey k = key(G, NAMES[rnd.nextInt(NAMES.length)], randomId(rnd));
      if (history.containsKey(k)) {
        continue;
      }
      List<PropertyRecord> versions = new ArrayList<>();
      long rev = 1_000 + rnd.nextInt(1_000_000);
      int n = 1 + rnd.nextInt(3);
      for (int i = 0; i < n; i++) {
        versions.add(version(rnd, k, rev, true));
        rev += 1 + rnd.nextInt(10_000);
      }
      history.put(k, versions);
    }

    // replica A: only the final versions, in one random order, one batch per shard
    List<PropertyRecord> finals = new ArrayList<>();
    history.values().forEach(v -> finals.add(v.get(v.size() - 1)));
    Collections.shuffle(finals, rnd);
    for (int s = 0; s < SHARDS; s++) {
      int shard = s;
      List<PropertyRecord> mine = finals.stream().filter(r -> shardOf(r.key()) == shard).toList();
      if (!mine.isEmpty()) {
        putAll(a.store(), s, mine);
      }
    }

    // replica B: every version, fully shuffled (older ones arrive late and must lose), with
    // commits in between so versions of one key spread over several segments
    List<PropertyRecord> all = new ArrayList<>();
    history.values().forEach(all::addAll);
    Collections.shuffle(all, rnd);
    List<PropertyRecord> chunk = new ArrayList<>();
    int chunkSize = 1 + rnd.nextInt(6);
    for (PropertyRecord r : all) {
      // one version per key in a batch: the batch reads every key's current record once
      boolean fits = chunk.stream().noneMatch(c -> c.key().equals(r.key()));
      if (!fits || chunk.size() >= chunkSize) {
        putAllLww(b.store(), chunk);
        chunk.clear();
        chunkSize = 1 + rnd.nextInt(6);
        if (rnd.nextInt(6) == 0) {
          b.store().checkpoint();
        }
        if (rnd.nextInt(30) == 0) {
          buildAll(b, desc + " intermediate");
        }
      }
      chunk.add(r);
    }
    putAllLww(b.store(), chunk);

    assertSameTrees(a, b, desc);

    // single changes on B: a new revision, a delete, a new key
    List<PropertyRecord> liveFinals = finals.stream().filter(r -> !r.deleted()).toList();
    PropertyRecord target = finals.get(rnd.nextInt(finals.size()));
    PropertyRecord newRevision = version(rnd, target.key(), target.modRevision() + 1 + rnd.nextInt(100), false);
    List<PropertyRecord> changes = new ArrayList<>();
    changes.add(newRevision);
    if (!liveFinals.isEmpty()) {
      PropertyRecord victim = liveFinals.get(rnd.nextInt(liveFinals.size()));
      if (!victim.key().equals(target.key())) {
        changes.add(victim.tombstone(victim.modRevision() + 5));
      }
    }
    EntityKey fresh;
    do {
      fresh = key(G, NAMES[rnd.nextInt(NAMES.length)], randomId(rnd) + "/new");
    } while (history.containsKey(fresh));
    changes.add(version(rnd, fresh, 42, false));

    for (PropertyRecord change : changes) {
      String what = desc + ", change " + change;
      assertSingleSlotChange(b, change, what);
      // the same change on A converges the trees again
      putLww(a.store(), shardOf(change.key()), change);
      assertSameTrees(a, b, what);
    }
  }
}
