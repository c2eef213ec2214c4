package dev.arbor.property;

import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;

/** Maps an entity to its shard: {@code xxHash64(utf8(group/name/id), seed 0) mod shardNum}. */
public final class ShardRouter {
  private static final XXHash64 XX = XXHashFactory.fastestJavaInstance().hash64();

  private ShardRouter() {}

  /** Unsigned xxHash64 of the bytes with seed 0 (as a signed long). */
  public static long xxHash64(byte[] bytes) {
    return XX.hash(bytes, 0, bytes.length, 0L);
  }

  public static int shardOf(EntityKey key, int shardNum) {
    if (shardNum <= 0) {
      throw new IllegalArgumentException("shardNum must be > 0");
    }
    return (int) Long.remainderUnsigned(xxHash64(key.entityUtf8()), shardNum);
  }
}
