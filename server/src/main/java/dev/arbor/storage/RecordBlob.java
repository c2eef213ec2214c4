package dev.arbor.storage;

import dev.arbor.property.ContentHash;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The one stored field of a layout-2 document: a record as bytes, big-endian —
 * version (1 byte, {@link #VERSION}), mod revision, create revision, delete time (8 bytes each),
 * content hash ({@link ContentHash#LENGTH} bytes), entity length (4 bytes) and UTF-8 entity,
 * then the canonical source to the end. The hash is kept so reads never re-hash a source.
 */
final class RecordBlob {
  static final byte VERSION = 1;
  private static final int FIXED = 1 + 8 + 8 + 8 + ContentHash.LENGTH + 4;

  private RecordBlob() {}

  static byte[] encode(PropertyRecord r) {
    byte[] entity = r.key().entityUtf8();
    byte[] sha = r.sha();
    if (sha.length != ContentHash.LENGTH) {
      throw new StorageException("content hash of " + r.key() + " is " + sha.length + " bytes, not " + ContentHash.LENGTH);
    }
    byte[] out = new byte[FIXED + entity.length + r.source().length];
    ByteBuffer.wrap(out)
        .put(VERSION)
        .putLong(r.modRevision())
        .putLong(r.createRevision())
        .putLong(r.deleteTime())
        .put(sha)
        .putInt(entity.length)
        .put(entity)
        .put(r.source());
    return out;
  }

  static PropertyRecord decode(byte[] blob) {
    try {
      ByteBuffer b = ByteBuffer.wrap(blob);
      byte version = b.get();
      if (version != VERSION) {
        throw new StorageException("stored record has version " + version + ", this build reads " + VERSION);
      }
      long rev = b.getLong();
      long crev = b.getLong();
      long del = b.getLong();
      byte[] sha = new byte[ContentHash.LENGTH];
      b.get(sha);
      int entityLength = b.getInt();
      if (entityLength < 0 || entityLength > b.remaining()) {
        throw new StorageException("stored record has an entity length of " + entityLength);
      }
      String entity = new String(blob, b.position(), entityLength, StandardCharsets.UTF_8);
      int sourceAt = b.position() + entityLength;
      byte[] source = Arrays.copyOfRange(blob, sourceAt, blob.length);
      return new PropertyRecord(EntityKey.parse(entity), rev, crev, del, source, sha);
    } catch (BufferUnderflowException e) {
      throw new StorageException("stored record is truncated (" + blob.length + " bytes)", e);
    }
  }
}
