package dev.arbor.property;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ContentHashTest {

  private static byte[] sha512(byte[] source, byte[] suffix) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-512");
    md.update(source);
    md.update(suffix);
    return md.digest();
  }

  @Test
  void liveHashIsSha512OfSourceAndEightZeroBytes() throws Exception {
    byte[] src = "canonical property bytes".getBytes(StandardCharsets.UTF_8);

    byte[] h = ContentHash.of(src, 0L);

    assertThat(h).hasSize(ContentHash.LENGTH).isEqualTo(sha512(src, new byte[8]));
    // not merely SHA-512 of the source alone
    assertThat(h).isNotEqualTo(MessageDigest.getInstance("SHA-512").digest(src));
  }

  @Test
  void deleteTimeIsAppendedAsEightBytesBigEndian() throws Exception {
    byte[] src = {1, 2, 3};
    long del = 0x0102030405060708L;

    assertThat(ContentHash.of(src, del))
        .isEqualTo(sha512(src, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}))
        .isNotEqualTo(sha512(src, new byte[] {8, 7, 6, 5, 4, 3, 2, 1}));
  }

  @Test
  void matchesMessageDigestForRandomInputs() throws Exception {
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    for (int i = 0; i < 200; i++) {
      byte[] src = new byte[rnd.nextInt(3000)];
      rnd.nextBytes(src);
      long del = rnd.nextBoolean() ? 0L : rnd.nextLong();
      byte[] expected = sha512(src, ByteBuffer.allocate(8).putLong(del).array());
      assertThat(ContentHash.of(src, del)).as("seed=%d i=%d", seed, i).isEqualTo(expected);
    }
  }

  @Test
  void differentDeleteTimesGiveDifferentHashes() {
    byte[] src = "p".getBytes(StandardCharsets.UTF_8);
    byte[] live = ContentHash.of(src, 0L);
    byte[] t1 = ContentHash.of(src, 1_700_000_000_000_000_000L);
    byte[] t2 = ContentHash.of(src, 1_700_000_000_000_000_001L);

    assertThat(live).isNotEqualTo(t1);
    assertThat(t1).isNotEqualTo(t2);
    assertThat(ContentHash.of(src, 1_700_000_000_000_000_001L)).isEqualTo(t2);
  }

  @Test
  void isDeterministicAcrossThreads() throws Exception {
    byte[] src = new byte[1024];
    new Random(7).nextBytes(src);
    byte[] expected = ContentHash.of(src, 42L);
    byte[][] fromOtherThread = new byte[1][];
    Thread t = new Thread(() -> fromOtherThread[0] = ContentHash.of(src, 42L));
    t.start();
    t.join();
    assertThat(fromOtherThread[0]).isEqualTo(expected);
  }
}
