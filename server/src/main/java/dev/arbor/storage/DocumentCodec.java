package dev.arbor.storage;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.StoredFieldVisitor;
import org.apache.lucene.index.Term;
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
 * Maps a {@link PropertyRecord} to its Lucene document and back (index layout {@link #LAYOUT}).
 * One document per property key. The record is stored once, as one stored field ({@link #REC},
 * see {@link RecordBlob}); everything else is indexed only as far as a lookup, a query, a tree
 * build or a purge needs it: the key as a term and as sorted doc values (the index sort), name, id
 * and liveness as terms, the delete time and the content hash as doc values. Live documents index
 * their tags by value type (validated against the schema at the edge): ints and timestamps as
 * points and doc values; strings and binary values as an equality term (the value when at most
 * {@link #SHORT_VALUE_BYTES}, else a 128-bit hash of it) and an order key in doc values (the value,
 * or its first {@link #ORDER_PREFIX_BYTES} bytes), so a 2 KB payload is not written three times. Tombstones keep only key fields: queries never return them.
 */
public final class DocumentCodec {
  /** Version of this document layout, stamped in every commit of a shard index. */
  public static final int LAYOUT = 2;

  public static final String KEY = "_key";
  public static final String NAME = "_name";
  public static final String ID = "_id";
  public static final String LIVE = "_live";
  public static final String DEL = "_del";
  public static final String SHA = "_sha";
  /** The stored record; see {@link RecordBlob}. */
  public static final String REC = "_rec";
  public static final String LIVE_YES = "1";
  public static final String LIVE_NO = "0";

  /**
   * How a tag value is indexed. The kind is part of the field name, so a schema that changes a
   * tag's type never collides with documents indexed under the old type.
   */
  public enum TagKind {
    /** Every string's order key, as doc values: sorting and ranges. */
    STRING("s."),
    /** Strings of at most {@link #SHORT_VALUE_BYTES}, as terms: equality. */
    STRING_TERM("e."),
    /** Hash of longer strings, as terms: equality. */
    STRING_HASH("h."),
    LONG("i."),
    TIMESTAMP("t."),
    /** Every binary value's order key, as doc values: sorting. */
    BINARY("b."),
    /** Binary values of at most {@link #SHORT_VALUE_BYTES}, as terms: equality. */
    BINARY_TERM("c."),
    /** Hash of longer binary values, as terms: equality. */
    BINARY_HASH("y."),
    /** Numeric doc value 1 when an int tag has a value: sorts properties lacking it last. */
    PRESENT("p.");

    private final String prefix;

    TagKind(String prefix) {
      this.prefix = prefix;
    }
  }

  /**
   * Values up to this many bytes (UTF-8 or raw) are indexed whole; longer ones by hash and prefix.
   * Ordering and range comparisons of longer values use their first {@link #ORDER_PREFIX_BYTES}
   * bytes: two long values sharing those bytes compare equal (ties then go by key).
   */
  public static final int SHORT_VALUE_BYTES = 128;
  /** One more than {@link #SHORT_VALUE_BYTES}, so a long value's prefix never equals a short value. */
  public static final int ORDER_PREFIX_BYTES = SHORT_VALUE_BYTES + 1;
  /** Bytes of SHA-256 kept as a long value's equality term (collision-resistant to 2^64 work). */
  static final int VALUE_HASH_BYTES = 16;

  /** Encoded length of a timestamp: i64 seconds (sign flipped) ‖ i32 nanos, big-endian. */
  public static final int TIMESTAMP_BYTES = 12;

  private DocumentCodec() {}

  /** Lucene field name of a tag indexed as {@code kind}. */
  public static String tagField(TagKind kind, String tagKey) {
    return "t." + kind.prefix + tagKey;
  }

  /**
   * The term under which a value equal to {@code value} is indexed: {@code hashed} is
   * {@link TagKind#STRING_HASH} for strings (UTF-8) or {@link TagKind#BINARY_HASH} for binary.
   */
  public static Term equalityTerm(TagKind hashed, String tagKey, byte[] value) {
    TagKind whole = switch (hashed) {
      case STRING_HASH -> TagKind.STRING_TERM;
      case BINARY_HASH -> TagKind.BINARY_TERM;
      default -> throw new IllegalArgumentException("not a hashed kind: " + hashed);
    };
    return value.length <= SHORT_VALUE_BYTES
        ? new Term(tagField(whole, tagKey), new BytesRef(value))
        : new Term(tagField(hashed, tagKey), new BytesRef(valueHash(value)));
  }

  /** What a value orders and compares by: itself, or its first {@link #ORDER_PREFIX_BYTES} bytes. */
  public static byte[] orderKey(byte[] value) {
    return value.length <= SHORT_VALUE_BYTES ? value : Arrays.copyOf(value, ORDER_PREFIX_BYTES);
  }

  static byte[] valueHash(byte[] value) {
    try {
      return Arrays.copyOf(MessageDigest.getInstance("SHA-256").digest(value), VALUE_HASH_BYTES);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every Java runtime", e);
    }
  }

  static Document toDocument(PropertyRecord r) {
    return toDocument(r, null);
  }

  /** As above, {@code parsed} (when not null) being {@code r}'s source already parsed. */
  static Document toDocument(PropertyRecord r, Property parsed) {
    Document d = new Document();
    EntityKey k = r.key();
    String entity = k.entity();
    if (r.key().entityUtf8().length > org.apache.lucene.index.IndexWriter.MAX_TERM_LENGTH) {
      // Lucene would refuse it only after the WAL took it, and then again at every replay.
      throw new StorageException("entity key of " + r.key().entityUtf8().length
          + " bytes is over the index's term limit of " + org.apache.lucene.index.IndexWriter.MAX_TERM_LENGTH);
    }
    d.add(new StringField(KEY, entity, Field.Store.NO));
    d.add(new SortedDocValuesField(KEY, new BytesRef(entity)));
    d.add(new StringField(NAME, k.name(), Field.Store.NO));
    d.add(new StringField(ID, k.id(), Field.Store.NO));
    d.add(new StringField(LIVE, r.deleted() ? LIVE_NO : LIVE_YES, Field.Store.NO));
    d.add(new NumericDocValuesField(DEL, r.deleteTime()));
    d.add(new BinaryDocValuesField(SHA, new BytesRef(r.sha())));
    d.add(new StoredField(REC, RecordBlob.encode(r)));
    if (!r.deleted()) {
      addTags(d, parsed != null ? parsed : parse(r.source()));
    }
    return d;
  }

  /** The record stored in document {@code docId}. */
  public static PropertyRecord fromStored(StoredFields stored, int docId) throws java.io.IOException {
    RecordVisitor v = new RecordVisitor();
    stored.document(docId, v);
    if (v.blob == null) {
      throw new StorageException("index document " + docId + " has no stored record (field " + REC + ")");
    }
    return RecordBlob.decode(v.blob);
  }

  /** Reads only the record field, as bytes, and stops. */
  private static final class RecordVisitor extends StoredFieldVisitor {
    byte[] blob;

    @Override
    public Status needsField(FieldInfo fieldInfo) {
      if (blob != null) {
        return Status.STOP;
      }
      return REC.equals(fieldInfo.name) ? Status.YES : Status.NO;
    }

    @Override
    public void binaryField(FieldInfo fieldInfo, byte[] value) {
      blob = value;
    }
  }

  private static Property parse(byte[] source) {
    try {
      return Property.parseFrom(source);
    } catch (InvalidProtocolBufferException e) {
      throw new StorageException("stored property source is not a valid property: " + e.getMessage(), e);
    }
  }

  private static void addTags(Document d, Property p) {
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (Tag t : p.getTagsList()) {
      if (!seen.add(t.getKey())) {
        // A repeated key would make Lucene refuse the whole document after it was logged; the
        // first value is the one indexed (write paths refuse such records before this).
        continue;
      }
      String key = t.getKey();
      String lf = tagField(TagKind.LONG, key);
      String pf = tagField(TagKind.PRESENT, key);
      TagValue v = t.getValue();
      switch (v.getValueCase()) {
        case STR -> addBytes(d, TagKind.STRING, TagKind.STRING_HASH, key, utf8(v.getStr().getValue()));
        case STR_ARRAY -> v.getStrArray().getValueList()
            .forEach(s -> addBytes(d, TagKind.STRING, TagKind.STRING_HASH, key, utf8(s)));
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
          String f = tagField(TagKind.TIMESTAMP, key);
          byte[] enc = encodeTimestamp(v.getTimestamp().getSeconds(), v.getTimestamp().getNanos());
          d.add(new BinaryPoint(f, enc));
          d.add(new SortedSetDocValuesField(f, new BytesRef(enc)));
        }
        case BINARY_DATA ->
            addBytes(d, TagKind.BINARY, TagKind.BINARY_HASH, key, v.getBinaryData().toByteArray());
        default -> {
          // null or unset: nothing to index; criteria never match it.
        }
      }
    }
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * A string or binary value: its order key as doc values, and an equality term — the value when
   * short, else its hash. Separate fields, because Lucene requires every document to index a
   * field the same way.
   */
  private static void addBytes(Document d, TagKind order, TagKind hashed, String tagKey, byte[] value) {
    d.add(new SortedSetDocValuesField(tagField(order, tagKey), new BytesRef(orderKey(value))));
    Term eq = equalityTerm(hashed, tagKey, value);
    d.add(new StringField(eq.field(), eq.bytes(), Field.Store.NO));
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
