package dev.arbor.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.errors.ArborException;
import dev.arbor.property.EntityKey;
import dev.arbor.property.LastWriteWins;
import dev.arbor.property.PropertyRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Data acknowledged before a campaign: live properties and, per shard, one deleted key. After the
 * campaign each must read back exactly as acknowledged: not lost, not replaced by an older or equal
 * version, and the deleted keys not resurrected. Pushes that legitimately beat one of them
 * ({@link #beatenBy}) are kept out of the inputs, so any change is a defect.
 */
final class Reference {
  private static final int LIVE_PER_SHARD = 6;

  private final Map<EntityKey, StoredProperty> acknowledged;
  private final Map<EntityKey, PropertyRecord> versions = new LinkedHashMap<>();

  private Reference(Map<EntityKey, StoredProperty> acknowledged) {
    this.acknowledged = acknowledged;
    acknowledged.forEach((k, p) -> versions.put(k, StoredProperties.fromProto(p, "reference").record()));
  }

  /** Writes the reference data at revisions around {@code rev} (an hour behind the node's clock is fine). */
  static Reference write(RepairFuzzNode node, long rev) {
    List<PropertyRecord> live = new ArrayList<>();
    List<PropertyRecord> deleted = new ArrayList<>();
    for (int s = 0; s < RepairFuzzNode.SHARDS; s++) {
      for (int i = 0; i < LIVE_PER_SHARD; i++) {
        live.add(RepairFuzzNode.live(RepairFuzzNode.idIn("ref" + s + "_" + i + "_", s), rev + i, 1000 + i));
      }
      PropertyRecord gone = RepairFuzzNode.live(RepairFuzzNode.idIn("gone" + s + "_", s), rev, 7);
      live.add(gone);
      deleted.add(gone.tombstoneAt(rev + 100, rev + 100));
    }
    assertThat(node.write(live)).as("reference properties stored").isEqualTo(live.size());
    assertThat(node.write(deleted)).as("reference deletes stored").isEqualTo(deleted.size());
    Map<EntityKey, StoredProperty> acked = new TreeMap<>((a, b) -> a.entity().compareTo(b.entity()));
    for (StoredProperty p : node.read(live.stream().map(PropertyRecord::key).toList())) {
      acked.put(EntityKey.parse(p.getEntity()), p);
    }
    assertThat(acked).hasSize(live.size());
    assertThat(acked.values().stream().filter(p -> p.getDeleteTime() > 0)).hasSize(RepairFuzzNode.SHARDS);
    return new Reference(acked);
  }

  /** The acknowledged versions of the keys routed to {@code shard}. */
  List<PropertyRecord> inShard(int shard) {
    return versions.values().stream().filter(r -> RepairFuzzNode.shardOf(r.key()) == shard).toList();
  }

  /**
   * A version of a reference key that must lose to the acknowledged one: older, equal, or (for a
   * deleted key) a live copy from before the delete.
   */
  static PropertyRecord loser(PropertyRecord current, Random rnd) {
    long older = current.modRevision() - 1 - rnd.nextInt(1_000_000);
    return switch (rnd.nextInt(4)) {
      case 0 -> current;
      case 1 -> RepairFuzzNode.live(current.key().id(), older, rnd.nextInt());
      case 2 -> RepairFuzzNode.live(current.key().id(), older, 1).tombstone(current.modRevision() + 1);
      default -> current.deleted() ? RepairFuzzNode.live(current.key().id(), current.modRevision() - 1, 99)
          : RepairFuzzNode.live(current.key().id(), older, -1);
    };
  }

  /** True when {@code push} decodes to a version that beats a reference key: storing it would be right. */
  boolean beatenBy(StoredProperty push) {
    PropertyRecord r;
    try {
      r = StoredProperties.fromProto(push, "push").record();
    } catch (ArborException | IllegalArgumentException e) {
      return false; // refused by the same decoding on the node
    }
    PropertyRecord current = versions.get(r.key());
    return current != null && LastWriteWins.beats(r, current);
  }

  void assertIntact(RepairFuzzNode node, String when) {
    Map<EntityKey, StoredProperty> now = new TreeMap<>((a, b) -> a.entity().compareTo(b.entity()));
    for (StoredProperty p : node.read(acknowledged.keySet())) {
      now.put(EntityKey.parse(p.getEntity()), p);
    }
    assertThat(now).as("acknowledged properties and deletes %s", when).isEqualTo(acknowledged);
  }
}
