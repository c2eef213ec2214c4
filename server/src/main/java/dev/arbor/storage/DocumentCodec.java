package dev.arbor.storage;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import java.nio.charset.StandardCharsets;
import org.apache.lucene.document.BinaryDocValuesField;
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
    BINARY("b.");

    private final String prefix;

    TagKind(String prefix) {
      this.prefix = prefix;
    }
  }

  private DocumentCodec() {}

  /** Lucene field name of a tag indexed as {@code kind}. */
  public static String tagField(TagKind kind, String tagKey) {
    return "t." + kind.prefix + tagKey;
  }

  static Document toDocument(PropertyRecord r) {
    Document d = new Document();
    EntityKey k = r.key();
    String entity = k.entity();
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
    for (Tag t : p.getTagsList()) {
      String sf = tagField(TagKind.STRING, t.getKey());
      String lf = tagField(TagKind.LONG, t.getKey());
      TagValue v = t.getValue();
      switch (v.getValueCase()) {
        case STR -> addString(d, sf, v.getStr().getValue());
        case STR_ARRAY -> v.getStrArray().getValueList().forEach(s -> addString(d, sf, s));
        case INT -> addLong(d, lf, v.getInt().getValue());
        case INT_ARRAY -> v.getIntArray().getValueList().forEach(l -> addLong(d, lf, l));
        case TIMESTAMP -> addLong(d, lf, nanos(v.getTimestamp()));
        case BINARY_DATA -> {
          String f = tagField(TagKind.BINARY, t.getKey());
          BytesRef b = new BytesRef(v.getBinaryData().toByteArray());
          d.add(new StringField(f, b, Field.Store.NO));
          d.add(new SortedSetDocValuesField(f, b));
        }
        default -> {
          // null or unset: nothing to index; criteria never match it.
        }
      }
    }
  }

  private static void addString(Document d, String f, String s) {
    d.add(new StringField(f, s, Field.Store.NO));
    d.add(new SortedSetDocValuesField(f, new BytesRef(s.getBytes(StandardCharsets.UTF_8))));
  }

  private static void addLong(Document d, String f, long v) {
    d.add(new LongPoint(f, v));
    d.add(new SortedNumericDocValuesField(f, v));
  }

  /** Timestamps are indexed and compared as ns since the epoch. */
  public static long nanos(Timestamp ts) {
    return ts.getSeconds() * 1_000_000_000L + ts.getNanos();
  }
}
