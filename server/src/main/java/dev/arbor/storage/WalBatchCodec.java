package dev.arbor.storage;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes a batch of shard writes as one WAL payload (format 1): {@code u8 format ‖ i32 count ‖
 * count × (str group ‖ i32 shard ‖ str entity ‖ i64 modRevision ‖ i64 createRevision ‖ i64
 * deleteTime ‖ bytes source ‖ bytes sha)}, where str/bytes are {@code i32 length ‖ raw}. A batch
 * is one frame, so it is replayed all or nothing. Integers are big-endian, as everywhere in Arbor's
 * files.
 */
final class WalBatchCodec {
  static final int FORMAT = 1;
  /** Bytes of the smallest encoded write: four length prefixes, a shard and three longs. */
  private static final int MIN_WRITE_BYTES = 4 * 4 + 4 + 3 * 8;

  private WalBatchCodec() {}

  static byte[] encode(List<ShardWrite> writes) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(256 + writes.size() * 2300);
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeByte(FORMAT);
      out.writeInt(writes.size());
      for (ShardWrite w : writes) {
        PropertyRecord r = w.record();
        writeBytes(out, w.group().getBytes(StandardCharsets.UTF_8));
        out.writeInt(w.shard());
        writeBytes(out, r.key().entityUtf8());
        out.writeLong(r.modRevision());
        out.writeLong(r.createRevision());
        out.writeLong(r.deleteTime());
        writeBytes(out, r.source());
        writeBytes(out, r.sha());
      }
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<ShardWrite> decode(byte[] payload) throws IOException {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload));
    int format = in.readUnsignedByte();
    if (format != FORMAT) {
      throw new IOException("unknown write-ahead log batch format " + format);
    }
    int n = in.readInt();
    if (n < 0) {
      throw new IOException("bad write count " + n);
    }
    // Capacity from what the payload can hold, not from the count it claims.
    List<ShardWrite> out = new ArrayList<>(Math.min(n, payload.length / MIN_WRITE_BYTES));
    for (int i = 0; i < n; i++) {
      String group = new String(readBytes(in), StandardCharsets.UTF_8);
      int shard = in.readInt();
      EntityKey key = parseKey(new String(readBytes(in), StandardCharsets.UTF_8));
      long rev = in.readLong();
      long crev = in.readLong();
      long del = in.readLong();
      byte[] src = readBytes(in);
      byte[] sha = readBytes(in);
      out.add(new ShardWrite(group, shard, new PropertyRecord(key, rev, crev, del, src, sha)));
    }
    return out;
  }

  private static EntityKey parseKey(String entity) throws IOException {
    try {
      return EntityKey.parse(entity);
    } catch (IllegalArgumentException e) {
      throw new IOException("bad entity key in a write-ahead log batch: " + e.getMessage(), e);
    }
  }

  private static void writeBytes(DataOutputStream out, byte[] b) throws IOException {
    out.writeInt(b.length);
    out.write(b);
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int len = in.readInt();
    if (len < 0 || len > WalFrameLayout.MAX_FRAME) {
      throw new IOException("bad length " + len);
    }
    byte[] b = new byte[len];
    in.readFully(b);
    return b;
  }
}
