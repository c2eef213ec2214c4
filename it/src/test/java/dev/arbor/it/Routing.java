package dev.arbor.it;

import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.List;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Where the server puts a property, computed the way it does (xxHash64 of the entity for the
 * shard, rendezvous ranking of node ids per shard), so a test can read each replica directly.
 */
final class Routing {
  private static final XXHash64 XX = XXHashFactory.fastestJavaInstance().hash64();

  private Routing() {}

  static long xxHash64(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    return XX.hash(b, 0, b.length, 0L);
  }

  static int shardOf(String group, String name, String id, int shardNum) {
    return (int) Long.remainderUnsigned(xxHash64(group + "/" + name + "/" + id), shardNum);
  }

  /** The {@code copies} nodes of (group, shard) among {@code nodeIds}, replica 0 first. */
  static List<String> placement(List<String> nodeIds, String group, int shard, int copies) {
    Comparator<String> byScore = (a, b) -> {
      int c = Long.compareUnsigned(xxHash64(group + "/" + shard + "/" + b), xxHash64(group + "/" + shard + "/" + a));
      return c != 0 ? c : a.compareTo(b);
    };
    return nodeIds.stream().sorted(byScore).limit(copies).toList();
  }
}
