package dev.arbor.storage;

import static dev.arbor.storage.StorageTestSupport.copyTree;
import static dev.arbor.storage.StorageTestSupport.decision;
import static dev.arbor.storage.StorageTestSupport.i64;
import static dev.arbor.storage.StorageTestSupport.live;
import static dev.arbor.storage.StorageTestSupport.put;
import static dev.arbor.storage.StorageTestSupport.str;
import static dev.arbor.storage.StorageTestSupport.tag;
import static dev.arbor.storage.StorageTestSupport.payloads;
import static dev.arbor.storage.StorageTestSupport.walSegments;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PropertyStoreTest {
  private static final Predicate<String> ALL_GROUPS = g -> true;
  private static final int SHARDS = 3;

  @TempDir Path tmp;

  private final List<PropertyStore> toClose = new ArrayList<>();

  @AfterEach
  void closeStores() throws IOException {
    for (PropertyStore s : toClose) {
      s.close();
    }
  }

  private PropertyStore open(Path dir, Predicate<String> groupExists) throws IOException {
    PropertyStore s = PropertyStore.open(dir, groupExists);
    toClose.add(s);
    return s;
  }

  private static int shardOf(EntityKey k) {
    return ShardRouter.shardOf(k, SHARDS);
  }

  private static void putRouted(PropertyStore store, PropertyRecord r) {
    put(store, r.key().group(), shardOf(r.key()), r);
  }

  private static PropertyRecord latest(PropertyStore store, EntityKey k) {
    return store.latest(k.group(), shardOf(k), k);
  }

  private static void assertHolds(PropertyStore store, Map<EntityKey, PropertyRecord> expected, String desc) {
    for (Map.Entry<EntityKey, PropertyRecord> e : expected.entrySet()) {
      assertThat(latest(store, e.getKey())).as("%s: %s", desc, e.getKey()).isEqualTo(e.getValue());
    }
  }

  @Test
  void updateIsVisibleToLatestImmediately() throws IOException {
    PropertyStore store = open(tmp.resolve("node"), ALL_GROUPS);
    EntityKey k = new EntityKey("g", "svc", "a/b");
    PropertyRecord v1 = live(k, 100, tag("name", str("x")));

    String result = store.update("g", 1, k, prev -> {
      assertThat(prev).isNull();
      return decision(v1, "stored");
    });

    assertThat(result).isEqualTo("stored");
    assertThat(store.latest("g", 1, k)).isEqualTo(v1);
    assertThat(store.existingShard("g", 1).latest(k.entity())).isEqualTo(v1);
    assertThat(store.latest("g", 2, k)).as("other shard").isNull();
    assertThat(store.latest("other", 1, k)).as("other group").isNull();

    PropertyRecord v2 = live(k, 200, tag("name", str("y")));
    AtomicReference<PropertyRecord> seen = new AtomicReference<>();
    store.update("g", 1, k, prev -> {
      seen.set(prev);
      return decision(v2, null);
    });
    assertThat(seen.get()).as("decide sees the previous record").isEqualTo(v1);
    assertThat(store.latest("g", 1, k)).isEqualTo(v2);

    PropertyRecord t = v2.tombstone(300);
    put(store, "g", 1, t);
    assertThat(store.latest("g", 1, k)).as("tombstones are returned by latest").isEqualTo(t);
  }

  @Test
  void decideReturningNullWritesNothing() throws IOException {
    PropertyStore store = open(tmp.resolve("node"), ALL_GROUPS);
    EntityKey k = new EntityKey("g", "svc", "1");
    long walBefore = store.walBytes();

    Integer r = store.update("g", 0, k, prev -> decision(null, 42));

    assertThat(r).isEqualTo(42);
    assertThat(store.walBytes()).isEqualTo(walBefore);
    assertThat(store.latest("g", 0, k)).isNull();

    PropertyRecord v1 = live(k, 10);
    put(store, "g", 0, v1);
    long walAfterPut = store.walBytes();
    store.update("g", 0, k, prev -> decision(null, null));
    assertThat(store.walBytes()).isEqualTo(walAfterPut);
    assertThat(store.latest("g", 0, k)).isEqualTo(v1);
  }

  @Test
  void decideThatThrowsWritesNothingAndReleasesTheKey() throws IOException {
    PropertyStore store = open(tmp.resolve("node"), ALL_GROUPS);
    EntityKey k = new EntityKey("g", "svc", "1");
    long walBefore = store.walBytes();

    assertThatThrownBy(() -> store.update("g", 0, k, prev -> {
      throw new IllegalStateException("rejected");
    })).hasMessage("rejected");

    assertThat(store.walBytes()).isEqualTo(walBefore);
    // the key lock must have been released: another thread can write the key
    Thread other = new Thread(() -> put(store, "g", 0, live(k, 2)));
    other.start();
    try {
      other.join(30_000);
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
    assertThat(other.isAlive()).as("key lock released").isFalse();
    assertThat(store.latest("g", 0, k).modRevision()).isEqualTo(2);
  }

  private Map<EntityKey, PropertyRecord> writeMixed(PropertyStore store, String group, int n, long baseRev) {
    Map<EntityKey, PropertyRecord> expected = new LinkedHashMap<>();
    for (int i = 0; i < n; i++) {
      EntityKey k = new EntityKey(group, "svc", "id/" + i);
      PropertyRecord r = live(k, baseRev + i, tag("n", i64(i)), tag("s", str("v" + i)));
      if (i % 5 == 0) {
        r = r.tombstone(baseRev + 1_000_000 + i);
      }
      putRouted(store, r);
      expected.put(k, r);
    }
    return expected;
  }

  @Test
  void closeAndReopenRecoversEverything() throws IOException {
    Path dir = tmp.resolve("node");
    Map<EntityKey, PropertyRecord> expected;
    try (PropertyStore store = PropertyStore.open(dir, ALL_GROUPS)) {
      expected = writeMixed(store, "g", 40, 1_000);
      expected.putAll(writeMixed(store, "h", 10, 5_000));
    }

    PropertyStore reopened = open(dir, ALL_GROUPS);

    assertHolds(reopened, expected, "after close+reopen");
    assertThat(reopened.shardsOf("g")).extracting(ShardIndex::shard).containsExactly(0, 1, 2);
    assertThat(reopened.shardsOf("h")).isNotEmpty();
    assertThat(walSegments(dir.resolve("wal"))).as("checkpoint on open drops replayed segments").hasSize(1);
  }

  @Test
  void crashRecoveryReplaysWritesAfterTheLastCheckpoint() throws IOException {
    Path dir = tmp.resolve("node");
    PropertyStore store = open(dir, ALL_GROUPS);
    Map<EntityKey, PropertyRecord> expected = writeMixed(store, "g", 30, 1_000);
    store.checkpoint();
    // after the checkpoint: overwrite some keys, delete one, add new ones; no checkpoint
    List<EntityKey> keys = new ArrayList<>(expected.keySet());
    for (int i = 1; i < 10; i += 2) {
      EntityKey k = keys.get(i);
      PropertyRecord r = live(k, 50_000 + i, tag("n", i64(-i)));
      putRouted(store, r);
      expected.put(k, r);
    }
    EntityKey deleted = keys.get(2);
    PropertyRecord t = expected.get(deleted).tombstone(77_777);
    putRouted(store, t);
    expected.put(deleted, t);
    expected.putAll(writeMixed(store, "h", 12, 9_000));

    Path crashed = tmp.resolve("crashed");
    copyTree(dir, crashed); // the store is still open: nothing was closed or flushed

    PropertyStore recovered = open(crashed, ALL_GROUPS);
    assertHolds(recovered, expected, "after crash");
    int docs = 0;
    for (ShardIndex s : recovered.allShards()) {
      docs += s.search(new MatchAllDocsQuery(), 1000, null).size();
    }
    assertThat(docs).as("one document per key, tombstones included").isEqualTo(expected.size());

    // and the recovered store is durable in its own right
    recovered.close();
    toClose.remove(recovered);
    PropertyStore third = open(crashed, ALL_GROUPS);
    assertHolds(third, expected, "after recovery + close + reopen");
  }

  @Test
  void crashBeforeAnyCheckpointRecoversFromTheWalAlone() throws IOException {
    Path dir = tmp.resolve("node");
    PropertyStore store = open(dir, ALL_GROUPS);
    Map<EntityKey, PropertyRecord> expected = writeMixed(store, "g", 25, 10);
    Path crashed = tmp.resolve("crashed");
    copyTree(dir, crashed);

    assertHolds(open(crashed, ALL_GROUPS), expected, "WAL only");
  }

  @Test
  void secondOpenOfAnOpenDirectoryFails() throws IOException {
    Path dir = tmp.resolve("node");
    PropertyStore first = PropertyStore.open(dir, ALL_GROUPS);
    EntityKey k = new EntityKey("g", "svc", "1");
    PropertyRecord v = live(k, 1);
    try {
      put(first, "g", 0, v);
      assertThatThrownBy(() -> PropertyStore.open(dir, ALL_GROUPS))
          .isInstanceOf(StorageException.class)
          .hasMessageContaining("in use");
      // the first store still works after the failed attempt
      put(first, "g", 0, live(k, 2));
    } finally {
      first.close();
    }
    PropertyStore second = open(dir, ALL_GROUPS);
    assertThat(second.latest("g", 0, k).modRevision()).isEqualTo(2);
  }

  @Test
  void updateBatchStoresManyKeysWithOneWalFrame() throws IOException {
    Path dir = tmp.resolve("node");
    PropertyStore store = open(dir, ALL_GROUPS);
    EntityKey existing = new EntityKey("g", "svc", "k7");
    PropertyRecord before = live(existing, 5);
    putRouted(store, before);
    store.checkpoint(); // the WAL now holds nothing
    List<EntityKey> keys = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      keys.add(new EntityKey("g", "svc", "k" + i));
    }
    Map<EntityKey, PropertyRecord> seen = new LinkedHashMap<>();
    List<ShardWrite> expectedWrites = new ArrayList<>();
    long walBefore = store.walBytes();

    List<PropertyRecord> stored = store.updateBatch("g", keys, PropertyStoreTest::shardOf, prev -> null);
    assertThat(stored).isEmpty();
    assertThat(store.walBytes()).as("nothing decided, nothing written").isEqualTo(walBefore);

    Set<Integer> shardsTouched = new HashSet<>();
    stored = store.updateBatch("g", keys, PropertyStoreTest::shardOf, prev -> {
      // decide is not told the key (prev is null for new keys): this relies on one call per key,
      // in the order of the key list, which is what updateBatch does. Skip every third key.
      int i = seen.size();
      EntityKey k = keys.get(i);
      seen.put(k, prev);
      if (i % 3 == 2) {
        return null;
      }
      PropertyRecord r = live(k, 1_000 + i, tag("i", i64(i)));
      expectedWrites.add(new ShardWrite("g", shardOf(k), r));
      shardsTouched.add(shardOf(k));
      return r;
    });

    assertThat(seen).hasSize(60);
    assertThat(seen.get(existing)).as("decide sees the latest record").isEqualTo(before);
    assertThat(seen.get(keys.get(0))).isNull();
    assertThat(stored).containsExactlyElementsOf(expectedWrites.stream().map(ShardWrite::record).toList());
    assertThat(shardsTouched).hasSize(SHARDS);
    assertThat(store.walBytes() - walBefore)
        .as("exactly one frame: header + one encoded batch")
        .isEqualTo(8 + WalBatchCodec.encode(expectedWrites).length);
    for (int i = 0; i < keys.size(); i++) {
      EntityKey k = keys.get(i);
      PropertyRecord expected = i % 3 == 2 ? (k.equals(existing) ? before : null) : live(k, 1_000 + i, tag("i", i64(i)));
      assertThat(latest(store, k)).as("key %s", k).isEqualTo(expected);
    }

    // the WAL on disk holds the batch as a single frame
    Path crashed = tmp.resolve("crashed");
    copyTree(dir, crashed);
    WriteAheadLog.Recovered rec = WriteAheadLog.open(crashed.resolve("wal"));
    try (WriteAheadLog ignored = rec.log()) {
      assertThat(payloads(rec)).hasSize(1);
      assertThat(WalBatchCodec.decode(payloads(rec).get(0))).isEqualTo(expectedWrites);
    }
  }

  @Test
  void dropGroupRemovesItsShardsAndRecoveryDoesNotResurrectThem() throws IOException {
    Path dir = tmp.resolve("node");
    Map<EntityKey, PropertyRecord> kept;
    Map<EntityKey, PropertyRecord> dropped;
    try (PropertyStore store = PropertyStore.open(dir, ALL_GROUPS)) {
      dropped = writeMixed(store, "drop", 20, 100);
      kept = writeMixed(store, "keep", 20, 100);
      assertThat(dir.resolve("data/drop")).isDirectory();

      store.dropGroup("drop");

      assertThat(dir.resolve("data/drop")).doesNotExist();
      assertThat(store.shardsOf("drop")).isEmpty();
      assertThat(store.existingShard("drop", 0)).isNull();
      for (EntityKey k : dropped.keySet()) {
        assertThat(latest(store, k)).isNull();
      }
      assertHolds(store, kept, "kept group, live");
    }

    PropertyStore reopened = open(dir, g -> !g.equals("drop"));
    assertThat(reopened.shardsOf("drop")).isEmpty();
    assertThat(dir.resolve("data/drop")).doesNotExist();
    for (EntityKey k : dropped.keySet()) {
      assertThat(latest(reopened, k)).isNull();
    }
    assertHolds(reopened, kept, "kept group, reopened");
  }

  @Test
  void recoveryDiscardsWalRecordsAndDirectoriesOfGroupsThatNoLongerExist() throws IOException {
    Path dir = tmp.resolve("node");
    PropertyStore store = open(dir, ALL_GROUPS);
    Map<EntityKey, PropertyRecord> gone = writeMixed(store, "gone", 20, 100);
    store.checkpoint(); // some of the group is in the index...
    gone.putAll(writeMixed(store, "gone", 30, 200)); // ...and some only in the WAL
    Map<EntityKey, PropertyRecord> kept = writeMixed(store, "kept", 15, 100);
    Path crashed = tmp.resolve("crashed");
    copyTree(dir, crashed);
    assertThat(crashed.resolve("data/gone")).isDirectory();

    PropertyStore recovered = open(crashed, g -> !g.equals("gone"));

    assertThat(recovered.shardsOf("gone")).isEmpty();
    assertThat(crashed.resolve("data/gone")).doesNotExist();
    for (EntityKey k : gone.keySet()) {
      assertThat(latest(recovered, k)).as("%s", k).isNull();
    }
    assertHolds(recovered, kept, "kept");
    // and it stays gone even if the group is later re-created with the same name
    recovered.close();
    toClose.remove(recovered);
    PropertyStore again = open(crashed, ALL_GROUPS);
    for (EntityKey k : gone.keySet()) {
      assertThat(latest(again, k)).as("re-created group %s", k).isNull();
    }
  }

  @Test
  void purgeTombstonesRemovesOnlyTombstonesOlderThanTheCutoff() throws IOException {
    PropertyStore store = open(tmp.resolve("node"), ALL_GROUPS);
    EntityKey liveKey = new EntityKey("g", "svc", "live");
    EntityKey oldDel = new EntityKey("g", "svc", "old");
    EntityKey atCutoff = new EntityKey("g", "svc", "at");
    EntityKey newDel = new EntityKey("g", "svc", "new");
    PropertyRecord liveRec = live(liveKey, 10, tag("s", str("x")));
    PropertyRecord oldRec = live(oldDel, 10).tombstone(100);
    PropertyRecord atRec = live(atCutoff, 10).tombstone(500);
    PropertyRecord newRec = live(newDel, 10).tombstone(1_000);
    for (PropertyRecord r : List.of(liveRec, oldRec, atRec, newRec)) {
      put(store, "g", 0, r);
    }
    ShardIndex shard = store.existingShard("g", 0);
    shard.refresh();
    assertThat(shard.search(new MatchAllDocsQuery(), 100, null)).hasSize(4);

    store.purgeTombstones(500);
    shard.refresh();

    assertThat(shard.search(new MatchAllDocsQuery(), 100, null))
        .as("documents after purging tombstones deleted at or before 500")
        .containsExactlyInAnyOrder(liveRec, newRec);
    assertThat(shard.latest(oldDel.entity())).isNull();
    assertThat(shard.latest(atCutoff.entity())).isNull();
    assertThat(shard.latest(newDel.entity())).isEqualTo(newRec);
    assertThat(shard.latest(liveKey.entity())).isEqualTo(liveRec);
  }

  @Test
  void purgeTombstonesIsVisibleWithoutAnExplicitEarlierRefresh() throws IOException {
    PropertyStore store = open(tmp.resolve("node"), ALL_GROUPS);
    EntityKey liveKey = new EntityKey("g", "svc", "live");
    EntityKey oldDel = new EntityKey("g", "svc", "old");
    EntityKey newDel = new EntityKey("g", "svc", "new");
    PropertyRecord liveRec = live(liveKey, 10);
    PropertyRecord newRec = live(newDel, 10).tombstone(1_000);
    put(store, "g", 0, liveRec);
    put(store, "g", 0, live(oldDel, 10).tombstone(100));
    put(store, "g", 0, newRec);

    store.purgeTombstones(500);
    ShardIndex shard = store.existingShard("g", 0);
    shard.refresh();

    assertThat(shard.search(new MatchAllDocsQuery(), 100, null)).containsExactlyInAnyOrder(liveRec, newRec);
    assertThat(shard.latest(oldDel.entity())).isNull();
  }

  @Test
  void purgedTombstonesStayPurgedAfterCheckpointAndReopen() throws IOException {
    Path dir = tmp.resolve("node");
    EntityKey liveKey = new EntityKey("g", "svc", "live");
    EntityKey oldDel = new EntityKey("g", "svc", "old");
    EntityKey newDel = new EntityKey("g", "svc", "new");
    PropertyRecord liveRec = live(liveKey, 10);
    PropertyRecord newRec = live(newDel, 10).tombstone(1_000);
    try (PropertyStore store = PropertyStore.open(dir, ALL_GROUPS)) {
      put(store, "g", 0, liveRec);
      put(store, "g", 0, live(oldDel, 10).tombstone(100));
      put(store, "g", 0, newRec);
      store.checkpoint();
      store.purgeTombstones(500);
    }

    PropertyStore reopened = open(dir, ALL_GROUPS);
    assertThat(reopened.latest("g", 0, oldDel)).isNull();
    assertThat(reopened.latest("g", 0, newDel)).isEqualTo(newRec);
    assertThat(reopened.latest("g", 0, liveKey)).isEqualTo(liveRec);
  }

  @Test
  void writesAfterCloseFail() throws IOException {
    PropertyStore store = PropertyStore.open(tmp.resolve("node"), ALL_GROUPS);
    store.close();
    EntityKey k = new EntityKey("g", "svc", "1");
    assertThatThrownBy(() -> put(store, "g", 0, live(k, 1))).isInstanceOf(StorageException.class);
  }

  @Test
  void openCreatesTheDirectoryLayout() throws IOException {
    Path dir = tmp.resolve("fresh/node");
    PropertyStore store = open(dir, ALL_GROUPS);
    put(store, "grp", 4, live(new EntityKey("grp", "svc", "1"), 1));
    assertThat(dir.resolve("arbor.lock")).exists();
    assertThat(dir.resolve("wal")).isDirectory();
    assertThat(dir.resolve("data/grp/shard-4")).isDirectory();
    try (var groupDir = Files.list(dir.resolve("data/grp"))) {
      assertThat(groupDir.count()).isEqualTo(1);
    }
  }
}
