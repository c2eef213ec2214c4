package dev.arbor.property;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;
import org.junit.jupiter.api.Test;

class ShardRouterTest {
  /** An independent implementation (the pure-Java "safe" one, not the router's "fastest"). */
  private static final XXHash64 REFERENCE = XXHashFactory.safeInstance().hash64();

  private static long reference(EntityKey k) {
    byte[] b = k.entity().getBytes(StandardCharsets.UTF_8);
    return REFERENCE.hash(b, 0, b.length, 0L);
  }

  private static EntityKey randomKey(Random rnd) {
    StringBuilder id = new StringBuilder();
    int len = 1 + rnd.nextInt(24);
    for (int i = 0; i < len; i++) {
      id.append((char) ('!' + rnd.nextInt(90)));
    }
    return new EntityKey("group" + rnd.nextInt(5), "name" + rnd.nextInt(5), id.toString());
  }

  @Test
  void xxHash64OfEmptyInputIsTheKnownSeedZeroValue() {
    assertThat(ShardRouter.xxHash64(new byte[0])).isEqualTo(0xEF46DB3751D8E999L);
  }

  @Test
  void hashAndShardMatchAnIndependentComputationWithUnsignedModulo() {
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    int negativeHashes = 0;
    int signedModuloWouldDiffer = 0;
    for (int i = 0; i < 5000; i++) {
      EntityKey k = randomKey(rnd);
      int shardNum = 1 + rnd.nextInt(64);
      long h = reference(k);
      long expected = Long.remainderUnsigned(h, shardNum);
      if (h < 0) {
        negativeHashes++;
      }
      if (Math.floorMod(h, (long) shardNum) != expected) {
        signedModuloWouldDiffer++;
      }
      assertThat(ShardRouter.xxHash64(k.entityUtf8())).as("seed=%d key=%s", seed, k).isEqualTo(h);
      assertThat(ShardRouter.shardOf(k, shardNum))
          .as("seed=%d key=%s shardNum=%d", seed, k, shardNum)
          .isEqualTo((int) expected)
          .isBetween(0, shardNum - 1);
    }
    // The sample must actually exercise the unsigned case, or this test proves nothing.
    assertThat(negativeHashes).as("seed=%d", seed).isGreaterThan(1000);
    assertThat(signedModuloWouldDiffer).as("seed=%d", seed).isGreaterThan(100);
  }

  @Test
  void isDeterministicAcrossEqualKeys() {
    EntityKey a = new EntityKey("g", "n", "some/id");
    EntityKey b = EntityKey.parse("g/n/some/id");
    for (int n = 1; n <= 32; n++) {
      assertThat(ShardRouter.shardOf(a, n)).isEqualTo(ShardRouter.shardOf(b, n));
      assertThat(ShardRouter.shardOf(a, n)).isEqualTo(ShardRouter.shardOf(a, n));
    }
  }

  @Test
  void oneShardAlwaysMapsToZero() {
    assertThat(ShardRouter.shardOf(new EntityKey("g", "n", "x"), 1)).isZero();
  }

  @Test
  void distributesKeysEvenlyOverShards() {
    int shards = 8;
    int keys = 16_000;
    int[] counts = new int[shards];
    for (int i = 0; i < keys; i++) {
      counts[ShardRouter.shardOf(new EntityKey("g", "svc", "instance-" + i), shards)]++;
    }
    int mean = keys / shards;
    for (int s = 0; s < shards; s++) {
      assertThat(counts[s]).as("shard %d of %s", s, java.util.Arrays.toString(counts))
          .isBetween((int) (mean * 0.85), (int) (mean * 1.15));
    }
  }

  @Test
  void rejectsNonPositiveShardNum() {
    EntityKey k = new EntityKey("g", "n", "i");
    assertThatThrownBy(() -> ShardRouter.shardOf(k, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ShardRouter.shardOf(k, -3)).isInstanceOf(IllegalArgumentException.class);
  }
}
