package dev.arbor.storage.lucene;

import java.io.IOException;
import org.apache.lucene.codecs.compressing.CompressionMode;
import org.apache.lucene.codecs.compressing.Compressor;
import org.apache.lucene.codecs.compressing.Decompressor;
import org.apache.lucene.store.ByteBuffersDataInput;
import org.apache.lucene.store.ByteBuffersDataOutput;
import org.apache.lucene.store.DataInput;
import org.apache.lucene.store.DataOutput;
import org.apache.lucene.util.ArrayUtil;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.compress.LZ4;

/**
 * Stored-field compression decided per chunk by compressibility: LZ4 when a sample of the chunk
 * shrinks by at least an eighth, otherwise the bytes as they are. Property sources are often
 * random or already-compressed payloads (tokens, encoded blobs) on which LZ4 costs CPU at every
 * flush and merge and saves nothing; structured JSON or text still compresses.
 *
 * <p>Chunk layout: one flag byte ({@link #RAW} or {@link #LZ4_BLOCK}), then the bytes.
 */
public final class AdaptiveCompressionMode extends CompressionMode {
  static final byte RAW = 0;
  static final byte LZ4_BLOCK = 1;
  /** Bytes of a chunk compressed to decide; the rest is compressed only when this shrank. */
  static final int SAMPLE_BYTES = 8 << 10;
  /**
   * After this many chunks in a row were not worth compressing, the decision is remembered: the
   * sample alone cost ≈ 7.5 % of a flush of random payloads, which never compress.
   */
  static final int REMEMBER_AFTER = 4;
  /** While remembered, one chunk in this many is still sampled, so a change of data is noticed. */
  static final int RESAMPLE_EVERY = 16;

  @Override
  public Compressor newCompressor() {
    return new AdaptiveCompressor();
  }

  @Override
  public Decompressor newDecompressor() {
    return new AdaptiveDecompressor();
  }

  @Override
  public String toString() {
    return "AdaptiveCompressionMode(LZ4 or raw per chunk)";
  }

  /** True when LZ4 shrinks {@code bytes[0, len)} by at least an eighth. */
  static boolean worthCompressing(byte[] bytes, int len, LZ4.FastCompressionHashTable table) throws IOException {
    int sample = Math.min(len, SAMPLE_BYTES);
    if (sample < 64) {
      return false;
    }
    CountingOutput counted = new CountingOutput();
    LZ4.compress(bytes, 0, sample, counted, table);
    return counted.count * 8L <= sample * 7L;
  }

  /**
   * One per stored-fields writer (one segment being written or merged), so the remembered
   * decision is about that segment's data and goes away with it.
   */
  private static final class AdaptiveCompressor extends Compressor {
    private final LZ4.FastCompressionHashTable table = new LZ4.FastCompressionHashTable();
    private byte[] buffer = new byte[0];
    /** Chunks in a row written raw, sampled or not. */
    private long rawInARow;

    @Override
    public void compress(ByteBuffersDataInput in, DataOutput out) throws IOException {
      int len = Math.toIntExact(in.length());
      buffer = ArrayUtil.growNoCopy(buffer, len);
      in.readBytes(buffer, 0, len);
      boolean remembered = rawInARow >= REMEMBER_AFTER && (rawInARow - REMEMBER_AFTER) % RESAMPLE_EVERY != 0;
      boolean lz4 = !remembered && worthCompressing(buffer, len, table);
      rawInARow = lz4 ? 0 : rawInARow + 1;
      if (lz4) {
        out.writeByte(LZ4_BLOCK);
        LZ4.compress(buffer, 0, len, out, table);
      } else {
        out.writeByte(RAW);
        out.writeBytes(buffer, 0, len);
      }
    }

    @Override
    public void close() {}
  }

  private static final class AdaptiveDecompressor extends Decompressor {
    @Override
    public void decompress(DataInput in, int originalLength, int offset, int length, BytesRef bytes)
        throws IOException {
      if (length == 0) {
        bytes.length = 0;
        return;
      }
      byte flag = in.readByte();
      switch (flag) {
        case RAW -> {
          bytes.bytes = ArrayUtil.growNoCopy(bytes.bytes, length);
          in.skipBytes(offset);
          in.readBytes(bytes.bytes, 0, length);
          bytes.offset = 0;
        }
        case LZ4_BLOCK -> {
          int upTo = offset + length;
          // LZ4 may write up to the end of its last sequence, so room for the whole chunk.
          bytes.bytes = ArrayUtil.growNoCopy(bytes.bytes, originalLength + 16);
          LZ4.decompress(in, upTo, bytes.bytes, 0);
          bytes.offset = offset;
        }
        default -> throw new IOException("stored-field chunk has unknown compression flag " + flag);
      }
      bytes.length = length;
    }

    @Override
    public Decompressor clone() {
      return new AdaptiveDecompressor();
    }
  }

  /** Counts what LZ4 would write, for the sample: nothing is kept. */
  private static final class CountingOutput extends DataOutput {
    long count;

    @Override
    public void writeByte(byte b) {
      count++;
    }

    @Override
    public void writeBytes(byte[] b, int offset, int length) {
      count += length;
    }
  }
}
