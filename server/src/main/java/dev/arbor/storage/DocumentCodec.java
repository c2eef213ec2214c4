package dev.arbor.storage;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import java.nio.charset.StandardCharsets;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.BinaryPoint;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.SortedDocValuesField;
import org.apache.lucene.document.SortedNumericDocValuesField;
import org.apache.lucene.document.SortedSetDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.util.BytesRef;

/**
 * Maps a {@link PropertyRecord} to its Lucene document and back. One document per property key.
 * Live documents index their tags by value type (validated against the schema at the edge):
 * strings and binary as exact terms, ints and timestamps (ns) as points; each also as doc values
 * for sorting. Tombstones keep only key fields: queries never return them.
 */
public final class DocumentCodec {
  public static final String KEY = "_key";
  public static final String NAME = "_name";
  public static final String ID = "_id";
  public static final String LIVE = "_live";
  public static final String REV = "_rev";
  public static final String CREV = "_crev";
  public static final String DEL = "_del";
  public static final String SHA = "_sha";
  public static final String SRC = "_src";
  public static final String LIVE_YES = "1";
  public static final String LIVE_NO = "0";

  /**
   * How a tag value is indexed. The kind is part of the field name, so a schema that changes a
   * tag's type never collides with documents indexed under the old type.
   */
  public enum TagKind {
    STRING("s."),
    LONG("i."),
    TIMESTAMP("t."),
    BINARY("b."),
    /** Numeric doc value 1 when an int tag has a value: sorts properties lacking it last. */
    PRESENT("p.");

    private final String prefix;

    TagKind(String prefix) {
      this.prefix = prefix;
    }
  }

  /**
   * Values longer than this (UTF-8 or raw bytes) are stored but not indexed: Lucene caps a term
   * at 32 KiB, and criteria on such values are not meaningful. Criteria and ordering ignore them.
   */
  public static final int MAX_INDEXED_VALUE_BYTES = 8 << 10;

  /** Encoded length of a timestamp: i64 seconds (sign flipped) ‖ i32 nanos, big-endian. */
  public static final int TIMESTAMP_BYTES = 12;

  private DocumentCodec() {}

  /** Lucene field name of a tag indexed as {@code kind}. */
  public static String tagField(TagKind kind, String tagKey) {
    return "t." + kind.prefix + tagKey;
  }

  static Document toDocument(PropertyRecord r) {
    Document d = new Document();
    EntityKey k = r.key();
    String entity = k.entity();
    if (r.key().entityUtf8().length > org.apache.lucene.index.IndexWriter.MAX_TERM_LENGTH) {
      // Lucene would refuse it only after the WAL took it, and then again at every replay.
      throw new StorageException("entity key of " + r.key().entityUtf8().length
          + " bytes is over the index's term limit of " + org.apache.lucene.index.IndexWriter.MAX_TERM_LENGTH);
    }
    d.add(new StringField(KEY, entity, Field.Store.YES));
    d.add(new SortedDocValuesField(KEY, new BytesRef(entity)));
    d.add(new StringField(NAME, k.name(), Field.Store.NO));
    d.add(new StringField(ID, k.id(), Field.Store.NO));
    d.add(new StringField(LIVE, r.deleted() ? LIVE_NO : LIVE_YES, Field.Store.NO));
    d.add(new StoredField(REV, r.modRevision()));
    d.add(new NumericDocValuesField(REV, r.modRevision()));
    d.add(new StoredField(CREV, r.createRevision()));
    d.add(new StoredField(DEL, r.deleteTime()));
    d.add(new NumericDocValuesField(DEL, r.deleteTime()));
    d.add(new StoredField(SHA, r.sha()));
    d.add(new BinaryDocValuesField(SHA, new BytesRef(r.sha())));
    d.add(new StoredField(SRC, r.source()));
    if (!r.deleted()) {
      addTags(d, r.source());
    }
    return d;
  }

  static PropertyRecord fromStored(StoredFields stored, int docId) throws java.io.IOException {
    Document d = stored.document(docId);
    return new PropertyRecord(
        EntityKey.parse(d.get(KEY)),
        d.getField(REV).numericValue().longValue(),
        d.getField(CREV).numericValue().longValue(),
        d.getField(DEL).numericValue().longValue(),
        copy(d.getBinaryValue(SRC)),
        copy(d.getBinaryValue(SHA)));
  }

  private static byte[] copy(BytesRef b) {
    byte[] out = new byte[b.length];
    System.arraycopy(b.bytes, b.offset, out, 0, b.length);
    return out;
  }

  private static void addTags(Document d, byte[] source) {
    Property p;
    try {
      p = Property.parseFrom(source);
    } catch (InvalidProtocolBufferException e) {
      throw new StorageException("stored property source is not a valid property: " + e.getMessage(), e);
    }
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (Tag t : p.getTagsList()) {
      if (!seen.add(t.getKey())) {
        // A repeated key would make Lucene refuse the whole document after it was logged; the
        // first value is the one indexed (write paths refuse such records before this).
        continue;
      }
      String sf = tagField(TagKind.STRING, t.getKey());
      String lf = tagField(TagKind.LONG, t.getKey());
      String pf = tagField(TagKind.PRESENT, t.getKey());
      TagValue v = t.getValue();
      switch (v.getValueCase()) {
        case STR -> addString(d, sf, v.getStr().getValue());
        case STR_ARRAY -> v.getStrArray().getValueList().forEach(s -> addString(d, sf, s));
        case INT -> {
          addLong(d, lf, v.getInt().getValue());
          d.add(new NumericDocValuesField(pf, 1));
        }
        case INT_ARRAY -> {
          v.getIntArray().getValueList().forEach(l -> addLong(d, lf, l));
          if (v.getIntArray().getValueCount() > 0) {
            d.add(new NumericDocValuesField(pf, 1));
          }
        }
        case TIMESTAMP -> {
          String f = tagField(TagKind.TIMESTAMP, t.getKey());
          byte[] enc = encodeTimestamp(v.getTimestamp().getSeconds(), v.getTimestamp().getNanos());
          d.add(new BinaryPoint(f, enc));
          d.add(new SortedSetDocValuesField(f, new BytesRef(enc)));
        }
        case BINARY_DATA -> {
          byte[] raw = v.getBinaryData().toByteArray();
          if (raw.length <= MAX_INDEXED_VALUE_BYTES) {
            String f = tagField(TagKind.BINARY, t.getKey());
            BytesRef b = new BytesRef(raw);
            d.add(new StringField(f, b, Field.Store.NO));
            d.add(new SortedSetDocValuesField(f, b));
          }
        }
        default -> {
          // null or unset: nothing to index; criteria never match it.
        }
      }
    }
  }

  private static void addString(Document d, String f, String s) {
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    if (utf8.length > MAX_INDEXED_VALUE_BYTES) {
      return;
    }
    d.add(new StringField(f, s, Field.Store.NO));
    d.add(new SortedSetDocValuesField(f, new BytesRef(utf8)));
  }

  /**
   * Order-preserving encoding of a protobuf timestamp (any year 0001–9999): seconds as i64 with
   * the sign bit flipped, then nanos as i32, both big-endian, so unsigned byte order is time order.
   */
  public static byte[] encodeTimestamp(long seconds, int nanos) {
    byte[] b = new byte[TIMESTAMP_BYTES];
    long s = seconds ^ Long.MIN_VALUE;
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (s >>> (56 - 8 * i));
    }
    for (int i = 0; i < 4; i++) {
      b[8 + i] = (byte) (nanos >>> (24 - 8 * i));
    }
    return b;
  }

  private static void addLong(Document d, String f, long v) {
    d.add(new LongPoint(f, v));
    d.add(new SortedNumericDocValuesField(f, v));
  }


}
