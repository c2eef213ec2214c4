package dev.arbor.storage;

import static dev.arbor.storage.StorageTestSupport.propertyBytes;
import static dev.arbor.storage.StorageTestSupport.str;
import static dev.arbor.storage.StorageTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.property.EntityKey;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.storage.format.FileFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store keeps a group's incarnation beside its data and never lets data of one incarnation
 * meet another's: at open (committed documents and WAL-only records alike), on reconcile, and on
 * writes that claim an incarnation.
 */
class GroupIncarnationStoreTest {
  private static final String G = "g";
  private static final int SHARDS = 3;

  @TempDir Path tmp;

  /** Metadata as the store sees it: group name → incarnation (null value: no incarnation yet). */
  private static final class Catalog implements GroupIncarnations {
    final Map<String, Optional<GroupIncarnation>> groups = new ConcurrentHashMap<>();

    @Override
    public boolean exists(String group) {
      return groups.containsKey(group);
    }

    @Override
    public Optional<GroupIncarnation> incarnation(String group) {
      return groups.getOrDefault(group, Optional.empty());
    }
  }

  private static PropertyRecord record(String id, long rev) {
    EntityKey k = new EntityKey(G, "t", id);
    return PropertyRecord.live(k, rev, 1, propertyBytes(k, rev, 1, List.of(tag("v", str(id + "@" + rev)))));
  }

  private static ShardWrite write(PropertyRecord r) {
    return new ShardWrite(G, ShardRouter.shardOf(r.key(), SHARDS), r);
  }

  private static PropertyRecord latest(PropertyStore s, PropertyRecord r) {
    return s.latest(G, write(r).shard(), r.key());
  }

  private static List<PropertyRecord> records(Random rnd, String prefix, int n) {
    List<PropertyRecord> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(record(prefix + i + "-" + rnd.nextInt(1000), 10 + rnd.nextInt(1000)));
    }
    return out;
  }

  @Test
  void dataOfAnotherIncarnationIsDroppedAtOpenIncludingWalOnlyRecords() throws IOException {
    long seed = System.nanoTime();
    System.out.println("[GroupIncarnationStoreTest] seed=" + seed);
    Random rnd = new Random(seed);
    Path dir = tmp.resolve("node");
    Catalog meta = new Catalog();
    GroupIncarnation first = GroupIncarnation.random();
    meta.groups.put(G, Optional.of(first));
    List<PropertyRecord> committed = records(rnd, "c", 5 + rnd.nextInt(20));
    List<PropertyRecord> walOnly = records(rnd, "w", 1 + rnd.nextInt(5));
    try (PropertyStore s = PropertyStore.open(dir, meta, new StoreEvents())) {
      s.applyIfNewer(committed.stream().map(GroupIncarnationStoreTest::write).toList());
    }
    // As a kill -9 leaves it: records in the WAL only.
    try (WriteAheadLog wal = WriteAheadLog.open(dir.resolve("wal")).log()) {
      wal.awaitDurable(wal.append(WalBatchCodec.encode(walOnly.stream().map(GroupIncarnationStoreTest::write).toList())));
    }
    assertThat(Files.exists(dir.resolve("data").resolve(G).resolve("incarnation"))).isTrue();

    // Deleted and re-created while this node was down.
    GroupIncarnation second = GroupIncarnation.random();
    meta.groups.put(G, Optional.of(second));
    try (PropertyStore s = PropertyStore.open(dir, meta, new StoreEvents())) {
      assertThat(s.quarantinedAtOpen()).containsExactly(G);
      for (PropertyRecord r : committed) {
        assertThat(latest(s, r)).as("seed %d: committed %s", seed, r.key()).isNull();
      }
      for (PropertyRecord r : walOnly) {
        assertThat(latest(s, r)).as("seed %d: WAL-only %s", seed, r.key()).isNull();
      }
      assertThat(s.incarnation(G)).contains(second);
      PropertyRecord fresh = record("fresh", 5);
      assertThat(s.applyIfNewer(List.of(write(fresh)))).containsExactly(fresh);
    }
    try (PropertyStore s = PropertyStore.open(dir, meta, new StoreEvents())) {
      assertThat(s.quarantinedAtOpen()).isEmpty();
      assertThat(latest(s, record("fresh", 5))).isEqualTo(record("fresh", 5));
    }
  }

  @Test
  void theSameIncarnationKeepsEverythingAndLegacyDataAdoptsMetadatasIncarnation() throws IOException {
    Path dir = tmp.resolve("node");
    PropertyRecord r = record("a", 7);
    try (PropertyStore s = PropertyStore.open(dir, g -> true)) {
      s.applyIfNewer(List.of(write(r)));
    }
    assertThat(Files.exists(dir.resolve("data").resolve(G).resolve("incarnation"))).as("written without").isFalse();
    Catalog meta = new Catalog();
    GroupIncarnation inc = GroupIncarnation.random();
    meta.groups.put(G, Optional.of(inc));
    for (int i = 0; i < 2; i++) {
      try (PropertyStore s = PropertyStore.open(dir, meta, new StoreEvents())) {
        assertThat(s.quarantinedAtOpen()).isEmpty();
        assertThat(latest(s, r)).isEqualTo(r);
        assertThat(s.incarnation(G)).contains(inc);
      }
      assertThat(IncarnationFile.read(dir.resolve("data").resolve(G))).contains(inc);
    }
  }

  @Test
  void reconcileDropsDataOnceMetadataHasAnotherIncarnationAndClaimsAreChecked() throws IOException {
    Catalog meta = new Catalog();
    GroupIncarnation first = GroupIncarnation.random();
    meta.groups.put(G, Optional.of(first));
    List<String> dropped = new ArrayList<>();
    StoreEvents events = new StoreEvents();
    events.subscribe(new StoreListener() {
      @Override
      public void onWrite(String group, int shard) {}

      @Override
      public void onGroupDropped(String group) {
        dropped.add(group);
      }
    });
    try (PropertyStore s = PropertyStore.open(tmp.resolve("node"), meta, events)) {
      PropertyRecord old = record("old", 3);
      assertThat(s.applyEach(List.of(write(old)), Map.of(G, first))).containsExactly(ApplyOutcome.STORED);
      assertThat(s.reconcile(G)).as("same incarnation").isFalse();

      GroupIncarnation second = GroupIncarnation.random();
      // Not yet in this node's metadata: the store still holds the first.
      assertThat(s.applyEach(List.of(write(record("x", 4))), Map.of(G, second)))
          .containsExactly(ApplyOutcome.WRONG_INCARNATION);
      meta.groups.put(G, Optional.of(second));
      assertThat(s.reconcile(G)).isTrue();
      assertThat(dropped).containsExactly(G);
      assertThat(latest(s, old)).isNull();
      assertThat(s.applyEach(List.of(write(record("late", 9))), Map.of(G, first)))
          .containsExactly(ApplyOutcome.WRONG_INCARNATION);
      PropertyRecord fresh = record("fresh", 4);
      assertThat(s.applyEach(List.of(write(fresh)), Map.of(G, second))).containsExactly(ApplyOutcome.STORED);
      assertThat(latest(s, fresh)).isEqualTo(fresh);

      meta.groups.remove(G);
      assertThat(s.reconcile(G)).as("deleted").isTrue();
      assertThat(latest(s, fresh)).isNull();
    }
  }

  /**
   * Neither guess is safe: taking the data for metadata's incarnation could serve a deleted group's
   * data, taking it for another one would set the group's own data aside.
   */
  @Test
  void aDamagedIncarnationFileStopsTheOpenWithAClearErrorAndMovesNothing() throws IOException {
    Path dir = tmp.resolve("node");
    Catalog meta = new Catalog();
    GroupIncarnation inc = GroupIncarnation.random();
    meta.groups.put(G, Optional.of(inc));
    try (PropertyStore s = PropertyStore.open(dir, meta, new StoreEvents())) {
      s.applyIfNewer(List.of(write(record("a", 1))));
    }
    Path f = dir.resolve("data").resolve(G).resolve("incarnation");
    byte[] good = Files.readAllBytes(f);
    assertThat(FileFormat.unseal(good, "f", IncarnationFile.KIND, 2, 2).body()).isEqualTo(inc.toBytes());
    byte[] flipped = good.clone();
    flipped[flipped.length - 1] ^= 1;
    // Format 1 (ARBI, little-endian) with a flipped incarnation byte.
    byte[] legacy = java.nio.ByteBuffer.allocate(28).order(java.nio.ByteOrder.LITTLE_ENDIAN)
        .put(new byte[] {'A', 'R', 'B', 'I'}).putInt(1).putInt(0).put(inc.toBytes()).array();
    for (byte[] bad : List.of(flipped, java.util.Arrays.copyOf(good, good.length - 2), new byte[0], legacy,
        FileFormat.seal(IncarnationFile.KIND, 2, new byte[15]))) {
      Files.write(f, bad);
      assertThatThrownBy(() -> PropertyStore.open(dir, meta, new StoreEvents()))
          .isInstanceOf(IOException.class)
          .hasMessageContaining(f.toString())
          .hasMessageContaining("does not start rather than guess which incarnation of group " + G)
          .hasMessageContaining("delete " + f);
      assertThat(dir.resolve("quarantine")).doesNotExist();
      assertThat(dir.resolve("data").resolve(G)).isDirectoryContaining(p -> p.getFileName().toString().startsWith("shard-"));
    }
    Files.write(f, good);
    try (PropertyStore s = PropertyStore.open(dir, meta, new StoreEvents())) {
      assertThat(latest(s, record("a", 1))).isNotNull();
    }
  }

  @Test
  void formatOneIsStillRead() throws IOException {
    Path dir = tmp.resolve("node");
    Catalog meta = new Catalog();
    GroupIncarnation inc = GroupIncarnation.random();
    meta.groups.put(G, Optional.of(inc));
    try (PropertyStore s = PropertyStore.open(dir, meta, new StoreEvents())) {
      s.applyIfNewer(List.of(write(record("a", 1))));
    }
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(inc.toBytes());
    Files.write(dir.resolve("data").resolve(G).resolve("incarnation"), java.nio.ByteBuffer.allocate(28)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN).put(new byte[] {'A', 'R', 'B', 'I'}).putInt(1)
        .putInt((int) crc.getValue()).put(inc.toBytes()).array());
    try (PropertyStore s = PropertyStore.open(dir, meta, new StoreEvents())) {
      assertThat(s.quarantinedAtOpen()).isEmpty();
      assertThat(s.incarnation(G)).contains(inc);
      assertThat(latest(s, record("a", 1))).isNotNull();
    }
  }
}
