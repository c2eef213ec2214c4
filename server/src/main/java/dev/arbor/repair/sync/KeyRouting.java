package dev.arbor.repair.sync;

import dev.arbor.property.EntityKey;
import dev.arbor.property.ShardRouter;
import java.util.function.Predicate;

/** Whether an entity key belongs to a (group, shard) under the group's shard count. */
final class KeyRouting {
  private KeyRouting() {}

  static Predicate<String> of(String group, int shard, int shardNum) {
    return entity -> {
      try {
        EntityKey k = EntityKey.parse(entity);
        return k.group().equals(group) && ShardRouter.shardOf(k, shardNum) == shard;
      } catch (IllegalArgumentException e) {
        return false;
      }
    };
  }
}
