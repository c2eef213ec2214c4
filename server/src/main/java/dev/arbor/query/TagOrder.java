package dev.arbor.query;

import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.storage.DocumentCodec;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Comparator;

/**
 * The order of {@code order_by} in Java, identical to the Lucene sort a node applies (so a liaison
 * can merge the nodes' top hits): the smallest value of the tag (arrays by their least element;
 * strings and binary by the unsigned bytes of their order key — the value, or the first 129 bytes
 * of a value over 128 bytes —, ints by value, timestamps by instant), ascending or
 * descending; properties without an indexed value last either way; ties by entity key.
 */
public final class TagOrder {
  private TagOrder() {}

  /** Orders {@code (entity, property)} pairs by the tag, then by entity. */
  public static <T> Comparator<T> comparator(
      String tag, boolean descending,
      java.util.function.Function<T, Property> property, java.util.function.Function<T, String> entity) {
    Comparator<byte[]> values = Arrays::compareUnsigned;
    Comparator<byte[]> directed = descending ? values.reversed() : values;
    Comparator<byte[]> missingLast = Comparator.nullsLast(directed);
    Comparator<T> byTag = Comparator.comparing(t -> sortKey(property.apply(t), tag), missingLast);
    return byTag.thenComparing(t -> entity.apply(t).getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned);
  }

  /** An order-preserving byte key of the tag's least value, or null when it has none indexed. */
  static byte[] sortKey(Property p, String tag) {
    for (Tag t : p.getTagsList()) {
      if (t.getKey().equals(tag)) {
        return key(t.getValue());
      }
    }
    return null;
  }

  private static byte[] key(TagValue v) {
    return switch (v.getValueCase()) {
      case STR -> string(v.getStr().getValue());
      case STR_ARRAY -> v.getStrArray().getValueList().stream().map(TagOrder::string)
          .filter(java.util.Objects::nonNull).min(Arrays::compareUnsigned).orElse(null);
      case INT -> longKey(v.getInt().getValue());
      case INT_ARRAY -> v.getIntArray().getValueList().stream().min(Long::compare).map(TagOrder::longKey).orElse(null);
      case TIMESTAMP -> DocumentCodec.encodeTimestamp(v.getTimestamp().getSeconds(), v.getTimestamp().getNanos());
      case BINARY_DATA -> DocumentCodec.orderKey(v.getBinaryData().toByteArray());
      default -> null;
    };
  }

  private static byte[] string(String s) {
    return DocumentCodec.orderKey(s.getBytes(StandardCharsets.UTF_8));
  }

  private static byte[] longKey(long v) {
    long x = v ^ Long.MIN_VALUE;
    byte[] b = new byte[8];
    for (int i = 0; i < 8; i++) {
      b[i] = (byte) (x >>> (56 - 8 * i));
    }
    return b;
  }
}
