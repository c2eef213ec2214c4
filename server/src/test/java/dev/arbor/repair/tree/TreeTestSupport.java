package dev.arbor.repair.tree;

import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.model.v1.Int;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.property.EntityKey;
import dev.arbor.property.LastWriteWins;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardWrite;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Shared helpers of the repair-tree tests: property bytes built the way the liaison builds them,
 * direct writes into a {@link PropertyStore}, leaf listing, and an independent implementation of
 * the hashing rules documented in {@link TreeHasher} (so the tests pin the rules, not the code).
 */
final class TreeTestSupport {
  /** Entities compared as unsigned UTF-8 bytes (the only order leaves may have). */
  static final Comparator<String> UTF8_ORDER =
      (a, b) -> Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));

  private TreeTestSupport() {}

  /** A store and its trees wired as a data node wires them at start: trees loaded and following writes. */
  record FollowingNode(PropertyStore store, RepairTrees trees) {}

  /** Opens {@code node/data} and {@code node/repair} as a data node does at start. */
  static FollowingNode openFollowing(Path node, int slots) throws IOException {
    dev.arbor.storage.StoreEvents events = new dev.arbor.storage.StoreEvents();
    PropertyStore store = PropertyStore.open(node.resolve("data"), g -> true, events);
    RepairTrees trees = new RepairTrees(node.resolve("repair"), store, slots);
    trees.loadExisting(g -> true);
    trees.followWrites(events);
    return new FollowingNode(store, trees);
  }

  /**
   * Closes in a data node's shutdown order: builds stopped, then the store (whose final checkpoint
   * writes the live trees' journals), then the trees. Either may be null.
   */
  static void closeLikeADataNode(PropertyStore store, RepairTrees trees) throws Exception {
    if (trees != null) {
      trees.stopBuilds();
    }
    if (store != null) {
      store.close();
    }
    if (trees != null) {
      trees.close();
    }
  }

  static Tag str(String key, String value) {
    return Tag.newBuilder()
        .setKey(key)
        .setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(value)))
        .build();
  }

  static Tag i64(String key, long value) {
    return Tag.newBuilder()
        .setKey(key)
        .setValue(TagValue.newBuilder().setInt(Int.newBuilder().setValue(value)))
        .build();
  }

  /** Canonical property bytes as {@code PropertyApplier} builds them. */
  static byte[] source(EntityKey key, long rev, long createRev, List<Tag> tags) {
    return Property.newBuilder()
        .setMetadata(
            Metadata.newBuilder()
                .setGroup(key.group())
                .setName(key.name())
                .setCreateRevision(createRev)
                .setModRevision(rev))
        .setId(key.id())
        .addAllTags(tags)
        .setUpdatedAt(com.google.protobuf.util.Timestamps.fromNanos(rev))
        .build()
        .toByteArray();
  }

  static PropertyRecord live(EntityKey key, long rev, Tag... tags) {
    return PropertyRecord.live(key, rev, rev, source(key, rev, rev, List.of(tags)));
  }

  static EntityKey key(String group, String name, String id) {
    return new EntityKey(group, name, id);
  }

  /** Unconditionally stores {@code r} as the key's latest record in (group, shard). */
  static void put(PropertyStore store, int shard, PropertyRecord r) {
    store.update(r.key().group(), shard, r.key(), prev -> decision(r));
  }

  /**
   * Stores many records in (group, shard) with one write-ahead-log frame per chunk (one fsync
   * instead of one per record), through the store's last-write-wins batch write. Every record must
   * win (new keys, newer versions, or tombstones of the current version).
   */
  static void putAll(PropertyStore store, int shard, List<PropertyRecord> rs) {
    for (int from = 0; from < rs.size(); from += 1_000) {
      List<PropertyRecord> chunk = rs.subList(from, Math.min(rs.size(), from + 1_000));
      List<PropertyRecord> stored = store.applyIfNewer(
          chunk.stream().map(r -> new ShardWrite(r.key().group(), shard, r)).toList());
      if (!stored.equals(chunk)) {
        throw new AssertionError("the batch stored " + stored.size() + " of " + chunk.size() + " records");
      }
    }
  }

  /** Stores {@code r} only when it beats the key's current record (last write wins). */
  static void putLww(PropertyStore store, int shard, PropertyRecord r) {
    store.update(
        r.key().group(), shard, r.key(), prev -> decision(LastWriteWins.beats(r, prev) ? r : null));
  }

  static PropertyStore.KeyUpdate<Void> decision(PropertyRecord next) {
    return new PropertyStore.KeyUpdate<>() {
      @Override
      public PropertyRecord next() {
        return next;
      }

      @Override
      public Void result() {
        return null;
      }
    };
  }

  /** All leaves of one slot, read through the streaming iterator. */
  static List<TreeLeaf> slotLeaves(TreeFileReader r, int slot) throws IOException {
    List<TreeLeaf> out = new ArrayList<>();
    try (TreeFileReader.LeafIterator it = r.leaves(slot)) {
      while (it.hasNext()) {
        out.add(it.next());
      }
    }
    return out;
  }

  /** Every leaf of the served tree of (group, shard), slot by slot; empty list for an empty tree. */
  static List<TreeLeaf> allLeaves(RepairTrees trees, String group, int shard) throws IOException {
    ServedTree t = trees.acquire(group, shard).orElseThrow(
        () -> new AssertionError("no tree served for " + group + "/" + shard));
    try {
      return allLeaves(t);
    } finally {
      t.close();
    }
  }

  static List<TreeLeaf> allLeaves(ServedTree t) throws IOException {
    List<TreeLeaf> out = new ArrayList<>();
    for (SlotSummary s : t.summary().slots()) {
      out.addAll(slotLeaves(t, s.index()));
    }
    return out;
  }

  /** All leaves of one slot of a served tree (checkpoint or live view). */
  static List<TreeLeaf> slotLeaves(ServedTree t, int slot) throws IOException {
    List<TreeLeaf> out = new ArrayList<>();
    try (ServedTree.SlotCursor it = t.leaves(slot)) {
      while (it.hasNext()) {
        out.add(it.next());
      }
    }
    return out;
  }

  /** entity -> leaf sha of every leaf of the served tree. */
  static Map<String, byte[]> leafMap(RepairTrees trees, String group, int shard) throws IOException {
    Map<String, byte[]> m = new TreeMap<>(UTF8_ORDER);
    for (TreeLeaf l : allLeaves(trees, group, shard)) {
      if (m.put(l.entity(), l.sha()) != null) {
        throw new AssertionError("entity listed twice in the tree: " + l.entity());
      }
    }
    return m;
  }

  static List<String> buildDirs(Path shardDir) throws IOException {
    if (!Files.isDirectory(shardDir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(shardDir)) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> n.startsWith("build-") || n.endsWith(".tmp") || n.endsWith(".spill"))
          .sorted()
          .toList();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Independent implementation of the hashing rules (TreeHasher's javadoc).
  // ---------------------------------------------------------------------------------------------

  static byte[] u32(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }

  static MessageDigest sha512() {
    try {
      return MessageDigest.getInstance("SHA-512");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Slot hash of leaves (format 3, written out here independently of TreeHasher): the sum of
   * SHA-512(u32 len ‖ entity ‖ sha) over the leaves, as eight u64be lanes modulo 2^64.
   */
  static byte[] expectedSlotHash(List<TreeLeaf> leaves) {
    long[] lanes = new long[8];
    for (TreeLeaf l : leaves) {
      MessageDigest md = sha512();
      md.update(u32(l.entityUtf8().length));
      md.update(l.entityUtf8());
      md.update(l.sha());
      java.nio.ByteBuffer d = java.nio.ByteBuffer.wrap(md.digest());
      for (int i = 0; i < 8; i++) {
        lanes[i] += d.getLong();
      }
    }
    java.nio.ByteBuffer out = java.nio.ByteBuffer.allocate(64);
    for (long v : lanes) {
      out.putLong(v);
    }
    return out.array();
  }

  /** Root over every slot (empty ones included), slot leaves in entity order. */
  static byte[] expectedRoot(List<List<TreeLeaf>> slots) {
    MessageDigest md = sha512();
    md.update(u32(slots.size()));
    for (List<TreeLeaf> s : slots) {
      md.update(u32(s.size()));
      md.update(expectedSlotHash(s));
    }
    return md.digest();
  }

  /** Groups leaves (any order) into slots, each sorted by UTF-8 bytes. */
  static List<List<TreeLeaf>> bySlot(List<TreeLeaf> leaves, int slotCount) {
    List<List<TreeLeaf>> slots = new ArrayList<>();
    for (int i = 0; i < slotCount; i++) {
      slots.add(new ArrayList<>());
    }
    for (TreeLeaf l : leaves) {
      slots.get(TreeHasher.slotOf(l.entityUtf8(), slotCount)).add(l);
    }
    for (List<TreeLeaf> s : slots) {
      s.sort((a, b) -> Arrays.compareUnsigned(a.entityUtf8(), b.entityUtf8()));
    }
    return slots;
  }

  static void deleteRecursively(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(p)) {
      for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
