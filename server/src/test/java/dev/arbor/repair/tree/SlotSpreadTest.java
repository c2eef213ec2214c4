package dev.arbor.repair.tree;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.storage.PropertyStore;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The slot of a leaf is independent of its shard: with as many shards as slots (the case where a
 * slot taken from the shard's hash put every leaf of a shard into one slot) each shard's leaves
 * spread over every slot, in the hash rule and in a tree built from a real index.
 */
class SlotSpreadTest {
  private static final int SLOTS = 32;

  @TempDir Path dir;

  @Test
  void withAsManyShardsAsSlotsEveryShardUsesEverySlot() {
    for (int shardNum : new int[] {2, 8, 32}) {
      List<Set<Integer>> slotsOf = new ArrayList<>();
      IntStream.range(0, shardNum).forEach(i -> slotsOf.add(new HashSet<>()));
      for (int i = 0; i < 40_000; i++) {
        EntityKey k = new EntityKey("g", "n", "id-" + i);
        slotsOf.get(ShardRouter.shardOf(k, shardNum)).add(TreeHasher.slotOf(k.entityUtf8(), SLOTS));
      }
      for (int s = 0; s < shardNum; s++) {
        assertThat(slotsOf.get(s)).as("slots used by shard %d of %d", s, shardNum).hasSize(SLOTS);
      }
    }
  }

  @Test
  void aBuiltTreeOfShard5Of32FillsEverySlot() throws Exception {
    int shardNum = 32;
    int shard = 5;
    List<PropertyRecord> records = new ArrayList<>();
    for (int i = 0; records.size() < 1_000; i++) {
      EntityKey k = new EntityKey("g", "n", "id-" + i);
      if (ShardRouter.shardOf(k, shardNum) == shard) {
        records.add(TreeTestSupport.live(k, 1_000 + i));
      }
    }
    records.sort((a, b) -> TreeTestSupport.UTF8_ORDER.compare(a.key().entity(), b.key().entity()));
    try (PropertyStore store = PropertyStore.open(dir.resolve("data"), g -> true);
        RepairTrees trees = new RepairTrees(dir.resolve("repair"), store, SLOTS)) {
      TreeTestSupport.putAll(store, shard, records);
      TreeSummary t = trees.build("g", shard, false).summary();
      long used = t.slots().stream().filter(s -> s.leafCount() > 0).count();
      assertThat(used).as("non-empty slots of shard %d of %d", shard, shardNum).isEqualTo(SLOTS);
      assertThat(t.slots().stream().mapToInt(SlotSummary::leafCount).max().orElseThrow())
          .as("no slot holds more than twice its share").isLessThan(2 * 1_000 / SLOTS);
    }
  }
}
