package dev.arbor.server.cli;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Int;
import dev.arbor.api.banyandb.model.v1.IntArray;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.StrArray;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * Tag types and values as typed on the command line. Type names: {@code string}, {@code int},
 * {@code string_array}, {@code int_array}, {@code binary}, {@code timestamp} (any case), or the
 * {@code TAG_TYPE_*} enum names. Values: arrays are comma-separated, binary is base64, timestamps
 * are ISO-8601 instants such as {@code 2025-01-31T12:00:00Z}.
 */
final class TagValues {
  static final String TYPE_NAMES = "string, int, string_array, int_array, binary, timestamp";

  private TagValues() {}

  /** Parses a type name; throws {@link IllegalArgumentException} naming the accepted ones. */
  static TagType parseType(String name) {
    String n = name.strip().toUpperCase(Locale.ROOT);
    if (n.startsWith("TAG_TYPE_")) {
      n = n.substring("TAG_TYPE_".length());
    }
    return switch (n) {
      case "STRING", "STR" -> TagType.TAG_TYPE_STRING;
      case "INT" -> TagType.TAG_TYPE_INT;
      case "STRING_ARRAY", "STR_ARRAY" -> TagType.TAG_TYPE_STRING_ARRAY;
      case "INT_ARRAY" -> TagType.TAG_TYPE_INT_ARRAY;
      case "BINARY", "DATA_BINARY" -> TagType.TAG_TYPE_DATA_BINARY;
      case "TIMESTAMP" -> TagType.TAG_TYPE_TIMESTAMP;
      default -> throw new IllegalArgumentException(
          "unknown tag type '" + name + "' (use one of " + TYPE_NAMES + ")");
    };
  }

  /** True when {@code name} is a type name {@link #parseType} accepts. */
  static boolean isTypeName(String name) {
    try {
      parseType(name);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * Parses {@code key=value} (a string) or {@code key:TYPE=value} into a tag. A {@code :suffix}
   * that is not a type name stays part of the key, so keys may contain ':'.
   */
  static Tag parseTag(String spec) {
    int eq = spec.indexOf('=');
    if (eq <= 0) {
      throw new IllegalArgumentException(
          "tag '" + spec + "' must look like key=value or key:TYPE=value");
    }
    String left = spec.substring(0, eq);
    String raw = spec.substring(eq + 1);
    String key = left;
    TagType type = TagType.TAG_TYPE_STRING;
    int colon = left.lastIndexOf(':');
    if (colon > 0 && isTypeName(left.substring(colon + 1))) {
      key = left.substring(0, colon);
      type = parseType(left.substring(colon + 1));
    }
    return Tag.newBuilder().setKey(key).setValue(parseValue(key, type, raw)).build();
  }

  /** Converts the text {@code raw} into a value of {@code type}. */
  static TagValue parseValue(String key, TagType type, String raw) {
    TagValue.Builder v = TagValue.newBuilder();
    switch (type) {
      case TAG_TYPE_INT -> v.setInt(Int.newBuilder().setValue(parseLong(key, raw)));
      case TAG_TYPE_STRING_ARRAY -> v.setStrArray(StrArray.newBuilder().addAllValue(split(raw)));
      case TAG_TYPE_INT_ARRAY -> {
        IntArray.Builder a = IntArray.newBuilder();
        for (String item : split(raw)) {
          a.addValue(parseLong(key, item.strip()));
        }
        v.setIntArray(a);
      }
      case TAG_TYPE_DATA_BINARY -> v.setBinaryData(ByteString.copyFrom(decodeBase64(key, raw)));
      case TAG_TYPE_TIMESTAMP -> v.setTimestamp(parseTimestamp(key, raw));
      default -> v.setStr(Str.newBuilder().setValue(raw));
    }
    return v.build();
  }

  private static List<String> split(String raw) {
    // An empty text is an empty array, not an array holding one empty string.
    return raw.isEmpty() ? List.of() : new ArrayList<>(List.of(raw.split(",", -1)));
  }

  private static long parseLong(String key, String raw) {
    try {
      return Long.parseLong(raw.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("tag '" + key + "': '" + raw + "' is not an int");
    }
  }

  private static byte[] decodeBase64(String key, String raw) {
    try {
      return Base64.getDecoder().decode(raw.strip());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("tag '" + key + "': value is not base64");
    }
  }

  private static Timestamp parseTimestamp(String key, String raw) {
    try {
      Instant t = Instant.parse(raw.strip());
      return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(
          "tag '" + key + "': '" + raw + "' is not an ISO-8601 instant like 2025-01-31T12:00:00Z");
    }
  }
}
