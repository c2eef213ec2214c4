package dev.arbor.query;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.arbor.api.cluster.v1.QueryPageToken;
import dev.arbor.api.cluster.v1.SortValue;
import dev.arbor.errors.InvalidArgumentException;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.SortedNumericSortField;
import org.apache.lucene.util.BytesRef;

/**
 * A paged query's continuation ({@code QueryPageToken} in cluster.proto): the Lucene sort values
 * of the last record sent. Read back against the query's sort, so a token that does not fit it
 * (another order, a forged or damaged token) is refused instead of paging from a wrong place.
 */
public final class PageToken {
  private PageToken() {}

  /** The token continuing after a record with these sort values. */
  public static ByteString encode(Object[] sortValues) {
    QueryPageToken.Builder b = QueryPageToken.newBuilder();
    for (Object v : sortValues) {
      if (v == null) {
        b.addAfter(SortValue.newBuilder().setMissing(true));
      } else if (v instanceof BytesRef r) {
        b.addAfter(SortValue.newBuilder().setBytes(ByteString.copyFrom(r.bytes, r.offset, r.length)));
      } else if (v instanceof Long l) {
        b.addAfter(SortValue.newBuilder().setNumber(l));
      } else {
        throw new IllegalStateException("unexpected sort value " + v.getClass().getName());
      }
    }
    return b.build().toByteString();
  }

  /** The sort values a token names in {@code sort}'s order; null for an empty token (the start). */
  public static Object[] decode(ByteString token, Sort sort, String field) {
    if (token.isEmpty()) {
      return null;
    }
    QueryPageToken t;
    try {
      t = QueryPageToken.parseFrom(token);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidArgumentException(field + " is not a page token of this query");
    }
    SortField[] fields = sort.getSort();
    if (t.getAfterCount() != fields.length) {
      throw new InvalidArgumentException(field + " has " + t.getAfterCount() + " sort values, the query's order "
          + fields.length + ": it is not a page token of this query");
    }
    Object[] values = new Object[fields.length];
    for (int i = 0; i < fields.length; i++) {
      SortValue v = t.getAfter(i);
      boolean numeric = fields[i] instanceof SortedNumericSortField || fields[i].getType() == SortField.Type.LONG;
      values[i] = switch (v.getValueCase()) {
        case NUMBER -> numeric ? (Object) v.getNumber() : null;
        case BYTES -> numeric ? null : new BytesRef(v.getBytes().toByteArray());
        // Only a tag's value can be missing: int tags sort by presence first, so theirs never is.
        case MISSING -> null;
        case VALUE_NOT_SET -> null;
      };
      // The entity key (the last field) is never missing either.
      boolean mayBeMissing = !numeric && i < fields.length - 1;
      if (values[i] == null && !(v.getValueCase() == SortValue.ValueCase.MISSING && mayBeMissing)) {
        throw new InvalidArgumentException(field + ": sort value " + i + " does not fit the query's order"
            + " (" + fields[i].getField() + "): it is not a page token of this query");
      }
    }
    return values;
  }
}
