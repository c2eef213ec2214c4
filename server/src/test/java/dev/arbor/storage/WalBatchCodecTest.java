package dev.arbor.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import java.io.EOFException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WalBatchCodecTest {

  private static String randomString(Random rnd, int max) {
    StringBuilder b = new StringBuilder();
    int n = rnd.nextInt(max + 1);
    for (int i = 0; i < n; i++) {
      b.append(rnd.nextInt(4) == 0 ? (char) (0x00C0 + rnd.nextInt(300)) : (char) ('a' + rnd.nextInt(26)));
    }
    return b.toString();
  }

  @Test
  void roundTripsRandomBatches() throws IOException {
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    for (int round = 0; round < 50; round++) {
      List<ShardWrite> writes = new ArrayList<>();
      int n = rnd.nextInt(20);
      for (int i = 0; i < n; i++) {
        String group = "g" + randomString(rnd, 6);
        EntityKey key = new EntityKey(group, "n" + randomString(rnd, 6), randomString(rnd, 10) + "/" + randomString(rnd, 5));
        byte[] src = new byte[rnd.nextInt(500)];
        rnd.nextBytes(src);
        PropertyRecord r = PropertyRecord.live(key, rnd.nextLong(), rnd.nextLong(), src);
        if (rnd.nextBoolean()) {
          r = r.tombstone(1 + (rnd.nextLong() & Long.MAX_VALUE - 1));
        }
        writes.add(new ShardWrite(group, rnd.nextInt(32), r));
      }

      List<ShardWrite> decoded = WalBatchCodec.decode(WalBatchCodec.encode(writes));

      assertThat(decoded).as("seed=%d round=%d", seed, round).isEqualTo(writes);
    }
  }

  @Test
  void roundTripsTheEmptyBatch() throws IOException {
    assertThat(WalBatchCodec.decode(WalBatchCodec.encode(List.of()))).isEmpty();
  }

  @Test
  void keepsIdsContainingSlashesAndExactBytes() throws IOException {
    EntityKey key = new EntityKey("grp", "svc", "a/b/c");
    byte[] sha = new byte[64];
    Arrays.fill(sha, (byte) 0x5A);
    PropertyRecord odd = new PropertyRecord(key, -5, Long.MAX_VALUE, 77, new byte[] {0, -1, 127}, sha);
    ShardWrite w = new ShardWrite("grp", 3, odd);

    ShardWrite back = WalBatchCodec.decode(WalBatchCodec.encode(List.of(w))).get(0);

    assertThat(back.group()).isEqualTo("grp");
    assertThat(back.shard()).isEqualTo(3);
    assertThat(back.record().key().id()).isEqualTo("a/b/c");
    assertThat(back.record().modRevision()).isEqualTo(-5);
    assertThat(back.record().createRevision()).isEqualTo(Long.MAX_VALUE);
    assertThat(back.record().deleteTime()).isEqualTo(77);
    assertThat(back.record().source()).containsExactly(0, -1, 127);
    assertThat(back.record().sha()).isEqualTo(sha);
  }

  @Test
  void startsWithTheFormatByte() {
    assertThat(WalBatchCodec.encode(List.of())[0]).isEqualTo((byte) WalBatchCodec.FORMAT);
  }

  @Test
  void rejectsAnUnknownFormat() {
    byte[] payload = WalBatchCodec.encode(List.of());
    payload[0] = 9;
    assertThatThrownBy(() -> WalBatchCodec.decode(payload))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("format");
  }

  @Test
  void rejectsATruncatedPayload() {
    EntityKey key = new EntityKey("g", "n", "i");
    byte[] payload = WalBatchCodec.encode(List.of(new ShardWrite("g", 0, PropertyRecord.live(key, 1, 1, new byte[10]))));
    byte[] cut = Arrays.copyOf(payload, payload.length - 5);
    assertThatThrownBy(() -> WalBatchCodec.decode(cut)).isInstanceOf(EOFException.class);
  }
}
