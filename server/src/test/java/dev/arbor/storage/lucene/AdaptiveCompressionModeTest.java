package dev.arbor.storage.lucene;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.lucene.codecs.compressing.Compressor;
import org.apache.lucene.codecs.compressing.Decompressor;
import org.apache.lucene.store.ByteArrayDataInput;
import org.apache.lucene.store.ByteBuffersDataInput;
import org.apache.lucene.store.ByteBuffersDataOutput;
import org.apache.lucene.util.BytesRef;
import org.junit.jupiter.api.Test;

class AdaptiveCompressionModeTest {
  private static final int CHUNK = 80 << 10;
  private final long seed = System.nanoTime();
  private final Random random = new Random(seed);

  {
    System.out.println("AdaptiveCompressionModeTest seed " + seed);
  }

  @Test
  void randomChunksAreStoredRawAndTextCompressed() throws IOException {
    Compressor c = new AdaptiveCompressionMode().newCompressor();
    byte[] noise = noise();
    byte[] text = text();
    byte[] rawChunk = compress(c, noise);
    byte[] lz4Chunk = compress(c, text);
    assertThat(rawChunk[0]).isEqualTo(AdaptiveCompressionMode.RAW);
    assertThat(rawChunk).hasSize(noise.length + 1);
    assertThat(lz4Chunk[0]).isEqualTo(AdaptiveCompressionMode.LZ4_BLOCK);
    assertThat(lz4Chunk.length).isLessThan(text.length / 2);
    assertRoundTrips(rawChunk, noise);
    assertRoundTrips(lz4Chunk, text);
  }

  @Test
  void aStreakOfIncompressibleChunksIsRememberedAndAChangeOfDataStillNoticed() throws IOException {
    Compressor c = new AdaptiveCompressionMode().newCompressor();
    for (int i = 0; i < AdaptiveCompressionMode.REMEMBER_AFTER + 3; i++) {
      assertThat(compress(c, noise())[0]).isEqualTo(AdaptiveCompressionMode.RAW);
    }
    // Compressible data after the streak: written raw while remembered (space, not
    // correctness), compressed again within one resampling period and from then on.
    List<Byte> flags = new ArrayList<>();
    List<byte[]> originals = new ArrayList<>();
    List<byte[]> chunks = new ArrayList<>();
    for (int i = 0; i < AdaptiveCompressionMode.RESAMPLE_EVERY + 4; i++) {
      byte[] text = text();
      byte[] chunk = compress(c, text);
      flags.add(chunk[0]);
      originals.add(text);
      chunks.add(chunk);
    }
    int firstLz4 = flags.indexOf(AdaptiveCompressionMode.LZ4_BLOCK);
    assertThat(flags.get(0)).as("remembered: not sampled").isEqualTo(AdaptiveCompressionMode.RAW);
    assertThat(firstLz4).isBetween(1, AdaptiveCompressionMode.RESAMPLE_EVERY);
    assertThat(flags.subList(firstLz4, flags.size())).containsOnly(AdaptiveCompressionMode.LZ4_BLOCK);
    for (int i = 0; i < chunks.size(); i++) {
      assertRoundTrips(chunks.get(i), originals.get(i));
    }
  }

  @Test
  void aNewCompressorSamplesAgain() throws IOException {
    AdaptiveCompressionMode mode = new AdaptiveCompressionMode();
    Compressor first = mode.newCompressor();
    for (int i = 0; i < AdaptiveCompressionMode.REMEMBER_AFTER + 1; i++) {
      compress(first, noise());
    }
    assertThat(compress(mode.newCompressor(), text())[0]).isEqualTo(AdaptiveCompressionMode.LZ4_BLOCK);
  }

  private static byte[] compress(Compressor c, byte[] bytes) throws IOException {
    ByteBuffersDataOutput out = new ByteBuffersDataOutput();
    c.compress(new ByteBuffersDataInput(List.of(ByteBuffer.wrap(bytes))), out);
    return out.toArrayCopy();
  }

  /** The whole chunk and a random slice of it decompress to the original bytes. */
  private void assertRoundTrips(byte[] chunk, byte[] original) throws IOException {
    Decompressor d = new AdaptiveCompressionMode().newDecompressor();
    BytesRef all = new BytesRef();
    d.decompress(new ByteArrayDataInput(chunk), original.length, 0, original.length, all);
    assertThat(BytesRef.deepCopyOf(all).bytes).isEqualTo(original);
    int offset = random.nextInt(original.length - 1);
    int length = 1 + random.nextInt(original.length - offset - 1);
    BytesRef slice = new BytesRef();
    d.clone().decompress(new ByteArrayDataInput(chunk), original.length, offset, length, slice);
    byte[] expected = new byte[length];
    System.arraycopy(original, offset, expected, 0, length);
    assertThat(BytesRef.deepCopyOf(slice).bytes).isEqualTo(expected);
  }

  private byte[] noise() {
    byte[] b = new byte[CHUNK];
    random.nextBytes(b);
    return b;
  }

  private byte[] text() {
    StringBuilder s = new StringBuilder();
    while (s.length() < CHUNK) {
      s.append("{\"name\":\"alarm-rule-").append(random.nextInt(1000)).append("\",\"threshold\":")
          .append(random.nextInt(100)).append(",\"enabled\":true}");
    }
    return s.substring(0, CHUNK).getBytes(StandardCharsets.US_ASCII);
  }
}
