package dev.arbor.storage;

import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Condition;
import dev.arbor.api.banyandb.model.v1.Criteria;
import dev.arbor.api.banyandb.model.v1.LogicalExpression;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.storage.DocumentCodec.TagKind;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.lucene.document.BinaryPoint;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.SortedSetDocValuesField;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.MatchNoDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TermRangeQuery;
import org.apache.lucene.util.BytesRef;

/**
 * Translates a criteria tree into a Lucene query, typed by the schema. Semantics: EQ/NE/LT/LE/GT/GE
 * on scalar tags (ranges on int, timestamp and string tags); IN/NOT_IN take an array value and
 * match a scalar tag equal to any element; HAVING/NOT_HAVING on array tags match when the tag
 * holds all the given values. A logical expression with one side missing is that side alone.
 * Anything else is an INVALID_ARGUMENT naming {@code criteria}.
 */
public final class CriteriaTranslator {
  private final Function<String, TagType> tagTypes;

  /** @param tagTypes schema type of a tag name, or null when the schema has no such tag */
  public CriteriaTranslator(Function<String, TagType> tagTypes) {
    this.tagTypes = tagTypes;
  }

  public Query translate(Criteria c) {
    return translate(c, "criteria");
  }

  private Query translate(Criteria c, String path) {
    return switch (c.getExpCase()) {
      case CONDITION -> condition(c.getCondition(), path + ".condition");
      case LE -> logical(c.getLe(), path + ".le");
      case EXP_NOT_SET -> throw bad(path + " is empty (neither a condition nor a logical expression)");
    };
  }

  private Query logical(LogicalExpression le, String path) {
    boolean hasLeft = le.hasLeft() && le.getLeft().getExpCase() != Criteria.ExpCase.EXP_NOT_SET;
    boolean hasRight = le.hasRight() && le.getRight().getExpCase() != Criteria.ExpCase.EXP_NOT_SET;
    if (!hasLeft && !hasRight) {
      throw bad(path + " has neither left nor right");
    }
    if (!hasLeft) {
      return translate(le.getRight(), path + ".right");
    }
    if (!hasRight) {
      return translate(le.getLeft(), path + ".left");
    }
    Query l = translate(le.getLeft(), path + ".left");
    Query r = translate(le.getRight(), path + ".right");
    return switch (le.getOp()) {
      case LOGICAL_OP_AND ->
          new BooleanQuery.Builder().add(l, Occur.FILTER).add(r, Occur.FILTER).build();
      case LOGICAL_OP_OR ->
          new BooleanQuery.Builder()
              .add(l, Occur.SHOULD)
              .add(r, Occur.SHOULD)
              .setMinimumNumberShouldMatch(1)
              .build();
      default -> throw bad(path + ".op must be LOGICAL_OP_AND or LOGICAL_OP_OR, got " + le.getOp());
    };
  }

  private Query condition(Condition c, String path) {
    if (c.getName().isEmpty()) {
      throw bad(path + ".name must name a tag");
    }
    TagType type = tagTypes.apply(c.getName());
    if (type == null) {
      throw bad(path + ": unknown tag '" + c.getName() + "'");
    }
    TagValue v = c.getValue();
    String tag = c.getName();
    return switch (c.getOp()) {
      case BINARY_OP_EQ -> eq(tag, type, v, path);
      case BINARY_OP_NE -> not(eq(tag, type, v, path));
      case BINARY_OP_LT -> range(tag, type, v, path, false, false);
      case BINARY_OP_LE -> range(tag, type, v, path, false, true);
      case BINARY_OP_GT -> range(tag, type, v, path, true, false);
      case BINARY_OP_GE -> range(tag, type, v, path, true, true);
      case BINARY_OP_IN -> in(tag, type, v, path);
      case BINARY_OP_NOT_IN -> not(in(tag, type, v, path));
      case BINARY_OP_HAVING -> having(tag, type, v, path);
      case BINARY_OP_NOT_HAVING -> not(having(tag, type, v, path));
      case BINARY_OP_MATCH ->
          throw bad(path + ".op BINARY_OP_MATCH (full-text) is not supported for properties");
      default -> throw bad(path + ".op must be a defined BinaryOp, got " + c.getOp());
    };
  }

  private Query eq(String tag, TagType type, TagValue v, String path) {
    return switch (type) {
      case TAG_TYPE_STRING -> term(tag, requireStr(tag, type, v, path));
      case TAG_TYPE_INT -> LongPoint.newExactQuery(longField(tag), requireInt(tag, type, v, path));
      case TAG_TYPE_TIMESTAMP -> BinaryPoint.newExactQuery(timestampField(tag), requireTimestamp(tag, type, v, path));
      case TAG_TYPE_DATA_BINARY -> {
        if (v.getValueCase() != TagValue.ValueCase.BINARY_DATA) {
          throw mismatch(tag, type, v, path);
        }
        yield new TermQuery(DocumentCodec.equalityTerm(TagKind.BINARY_HASH, tag, v.getBinaryData().toByteArray()));
      }
      case TAG_TYPE_STRING_ARRAY, TAG_TYPE_INT_ARRAY -> having(tag, type, v, path);
      default -> throw mismatch(tag, type, v, path);
    };
  }

  private Query range(String tag, TagType type, TagValue v, String path, boolean lower, boolean inclusive) {
    switch (type) {
      case TAG_TYPE_TIMESTAMP -> {
        byte[] x = requireTimestamp(tag, type, v, path);
        byte[] lo;
        byte[] hi;
        if (lower) {
          lo = inclusive ? x : step(x, +1);
          hi = null;
        } else {
          lo = null;
          hi = inclusive ? x : step(x, -1);
        }
        if ((lower && lo == null) || (!lower && hi == null)) {
          return new MatchNoDocsQuery();
        }
        byte[] min = new byte[DocumentCodec.TIMESTAMP_BYTES];
        byte[] max = new byte[DocumentCodec.TIMESTAMP_BYTES];
        java.util.Arrays.fill(max, (byte) 0xff);
        return BinaryPoint.newRangeQuery(timestampField(tag), lo == null ? min : lo, hi == null ? max : hi);
      }
      case TAG_TYPE_INT -> {
        long x = requireInt(tag, type, v, path);
        long lo;
        long hi;
        if (lower) {
          if (!inclusive && x == Long.MAX_VALUE) {
            return new MatchNoDocsQuery();
          }
          lo = inclusive ? x : x + 1;
          hi = Long.MAX_VALUE;
        } else {
          if (!inclusive && x == Long.MIN_VALUE) {
            return new MatchNoDocsQuery();
          }
          lo = Long.MIN_VALUE;
          hi = inclusive ? x : x - 1;
        }
        return LongPoint.newRangeQuery(longField(tag), lo, hi);
      }
      case TAG_TYPE_STRING -> {
        // Over doc values: they hold every value's order key (long values only by prefix, so
        // ranges compare those prefixes, exactly as the liaison's merge order does).
        BytesRef x = new BytesRef(DocumentCodec.orderKey(
            requireStr(tag, type, v, path).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        String f = DocumentCodec.tagField(TagKind.STRING, tag);
        return lower
            ? SortedSetDocValuesField.newSlowRangeQuery(f, x, null, inclusive, true)
            : SortedSetDocValuesField.newSlowRangeQuery(f, null, x, true, inclusive);
      }
      default -> throw bad(path + ": range comparison is not supported on " + type + " tag '" + tag + "'");
    }
  }

  private Query in(String tag, TagType type, TagValue v, String path) {
    BooleanQuery.Builder b = new BooleanQuery.Builder().setMinimumNumberShouldMatch(1);
    switch (type) {
      case TAG_TYPE_STRING, TAG_TYPE_STRING_ARRAY -> {
        if (v.getValueCase() != TagValue.ValueCase.STR_ARRAY) {
          throw bad(path + ".value for IN/NOT_IN on tag '" + tag + "' must be a str_array");
        }
        v.getStrArray().getValueList().forEach(s -> b.add(term(tag, s), Occur.SHOULD));
      }
      case TAG_TYPE_INT, TAG_TYPE_INT_ARRAY -> {
        if (v.getValueCase() != TagValue.ValueCase.INT_ARRAY) {
          throw bad(path + ".value for IN/NOT_IN on tag '" + tag + "' must be an int_array");
        }
        v.getIntArray().getValueList().forEach(l -> b.add(LongPoint.newExactQuery(longField(tag), l), Occur.SHOULD));
      }
      default -> throw bad(path + ": IN/NOT_IN is not supported on " + type + " tag '" + tag + "'");
    }
    BooleanQuery q = b.build();
    return q.clauses().isEmpty() ? new MatchNoDocsQuery() : q;
  }

  private Query having(String tag, TagType type, TagValue v, String path) {
    List<Query> parts = new ArrayList<>();
    switch (type) {
      case TAG_TYPE_STRING_ARRAY -> {
        switch (v.getValueCase()) {
          case STR_ARRAY -> v.getStrArray().getValueList().forEach(s -> parts.add(term(tag, s)));
          case STR -> parts.add(term(tag, v.getStr().getValue()));
          default -> throw mismatch(tag, type, v, path);
        }
      }
      case TAG_TYPE_INT_ARRAY -> {
        switch (v.getValueCase()) {
          case INT_ARRAY -> v.getIntArray().getValueList().forEach(l -> parts.add(LongPoint.newExactQuery(longField(tag), l)));
          case INT -> parts.add(LongPoint.newExactQuery(longField(tag), v.getInt().getValue()));
          default -> throw mismatch(tag, type, v, path);
        }
      }
      default -> throw bad(path + ": HAVING/NOT_HAVING needs an array tag, '" + tag + "' is " + type);
    }
    if (parts.isEmpty()) {
      throw bad(path + ".value for HAVING on tag '" + tag + "' must hold at least one element");
    }
    BooleanQuery.Builder b = new BooleanQuery.Builder();
    parts.forEach(p -> b.add(p, Occur.FILTER));
    return b.build();
  }

  private static Query not(Query q) {
    return new BooleanQuery.Builder()
        .add(new MatchAllDocsQuery(), Occur.FILTER)
        .add(q, Occur.MUST_NOT)
        .build();
  }

  private static Query term(String tag, String value) {
    return new TermQuery(DocumentCodec.equalityTerm(
        TagKind.STRING_HASH, tag, value.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
  }

  private static String longField(String tag) {
    return DocumentCodec.tagField(TagKind.LONG, tag);
  }

  private static String requireStr(String tag, TagType type, TagValue v, String path) {
    if (v.getValueCase() != TagValue.ValueCase.STR) {
      throw mismatch(tag, type, v, path);
    }
    return v.getStr().getValue();
  }

  private static long requireInt(String tag, TagType type, TagValue v, String path) {
    if (v.getValueCase() != TagValue.ValueCase.INT) {
      throw mismatch(tag, type, v, path);
    }
    return v.getInt().getValue();
  }

  private static byte[] requireTimestamp(String tag, TagType type, TagValue v, String path) {
    if (v.getValueCase() != TagValue.ValueCase.TIMESTAMP) {
      throw mismatch(tag, type, v, path);
    }
    return DocumentCodec.encodeTimestamp(v.getTimestamp().getSeconds(), v.getTimestamp().getNanos());
  }

  private static String timestampField(String tag) {
    return DocumentCodec.tagField(TagKind.TIMESTAMP, tag);
  }

  /** The next (+1) or previous (−1) encoded value as an unsigned big-endian number; null past the end. */
  private static byte[] step(byte[] x, int dir) {
    byte[] y = x.clone();
    for (int i = y.length - 1; i >= 0; i--) {
      int b = (y[i] & 0xff) + dir;
      if (b >= 0 && b <= 0xff) {
        y[i] = (byte) b;
        return y;
      }
      y[i] = (byte) (dir > 0 ? 0 : 0xff);
    }
    return null;
  }

  private static InvalidArgumentException mismatch(String tag, TagType type, TagValue v, String path) {
    return bad(path + ".value: tag '" + tag + "' is " + type + " but the condition value is "
        + (v.getValueCase() == TagValue.ValueCase.VALUE_NOT_SET ? "missing" : v.getValueCase().name().toLowerCase()));
  }

  private static InvalidArgumentException bad(String msg) {
    return new InvalidArgumentException(msg);
  }
}
