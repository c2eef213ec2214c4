package dev.arbor.liaison;

import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.property.EntityKey;
import dev.arbor.property.ShardRouter;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * The shards of a group that can hold a query's results: with a schema name and ids, only the
 * shards those entities route to (a by-id query then asks the replicas of one shard, not every
 * node); otherwise all of them.
 */
final class QueriedShards {
  private QueriedShards() {}

  static Set<Integer> of(QueryRequest req, String group, int shardNum) {
    if (req.getName().isEmpty() || req.getIdsCount() == 0) {
      return all(shardNum);
    }
    Set<Integer> shards = new TreeSet<>();
    for (String id : req.getIdsList()) {
      EntityKey key;
      try {
        key = new EntityKey(group, req.getName(), id);
      } catch (IllegalArgumentException e) {
        // Not an entity any write could have stored; asking every shard finds nothing either.
        return all(shardNum);
      }
      shards.add(ShardRouter.shardOf(key, shardNum));
      if (shards.size() == shardNum) {
        break;
      }
    }
    return shards;
  }

  private static Set<Integer> all(int shardNum) {
    return IntStream.range(0, shardNum).boxed().collect(Collectors.toCollection(TreeSet::new));
  }
}
