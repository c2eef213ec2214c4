package dev.arbor.liaison;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.arbor.api.banyandb.common.v1.Span;
import dev.arbor.api.banyandb.common.v1.Trace;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Sort;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.banyandb.property.v1.QueryResponse;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.CriteriaTranslator;
import dev.arbor.storage.DocumentCodec;
import dev.arbor.storage.DocumentCodec.TagKind;
import dev.arbor.storage.MultiShardSearcher;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardIndex;
import dev.arbor.storage.ShardSearch;
import dev.arbor.storage.StorageException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.SortedNumericSortField;
import org.apache.lucene.search.SortedSetSortField;
import org.apache.lucene.search.TermQuery;

/**
 * Query (spec §2.3): live properties of the given groups, filtered by name, ids (OR-ed) and
 * criteria, ordered by a tag when {@code order_by} names one (otherwise by entity key), limited
 * ({@code 0} means 100) and projected. Tombstones never appear.
 */
final class PropertyQuerier {
  static final int DEFAULT_LIMIT = 100;

  private final SchemaLookup lookup;
  private final PropertyStore store;
  private final RequestLimits limits;

  PropertyQuerier(SchemaLookup lookup, PropertyStore store, RequestLimits limits) {
    this.lookup = lookup;
    this.store = store;
    this.limits = limits;
  }

  QueryResponse query(QueryRequest req) {
    long start = System.nanoTime();
    if (req.getGroupsCount() == 0) {
      throw new InvalidArgumentException("groups must name at least one property group");
    }
    if (req.getIdsCount() > limits.maxIdsPerQuery()) {
      throw new InvalidArgumentException(
          "ids: " + req.getIdsCount() + " ids exceed the limit of " + limits.maxIdsPerQuery());
    }
    if (req.getLimit() > limits.maxQueryLimit()) {
      throw new InvalidArgumentException(
          "limit: " + req.getLimit() + " exceeds the maximum of " + limits.maxQueryLimit());
    }
    int limit = req.getLimit() == 0 ? DEFAULT_LIMIT : req.getLimit();
    String name = req.getName();
    if (!name.isEmpty() && name.indexOf('/') >= 0) {
      throw new InvalidArgumentException("name must not contain '/': " + name);
    }
    Set<String> groups = new LinkedHashSet<>(req.getGroupsList());
    boolean anySchema = name.isEmpty();
    for (String g : groups) {
      lookup.propertyGroup(g, "groups");
      anySchema |= !name.isEmpty() && lookup.findSchema(g, name).isPresent();
    }
    if (!anySchema) {
      throw new NotFoundException("property schema " + name + " not found in groups " + groups);
    }
    String orderTag = req.hasOrderBy() ? req.getOrderBy().getTagName() : "";
    boolean desc = req.hasOrderBy() && req.getOrderBy().getSort() == Sort.SORT_DESC;
    TagType orderType = null;
    List<ShardSearch> searches = new ArrayList<>();
    for (String g : groups) {
      if (!name.isEmpty() && lookup.findSchema(g, name).isEmpty()) {
        continue;
      }
      Query q = groupQuery(g, req);
      if (!orderTag.isEmpty()) {
        TagType t = lookup.tagType(g, name, orderTag);
        if (t == null) {
          throw new InvalidArgumentException("order_by.tag_name: unknown tag '" + orderTag + "' in group " + g);
        }
        if (orderType != null && kind(orderType) != kind(t)) {
          throw new InvalidArgumentException(
              "order_by.tag_name: tag '" + orderTag + "' has different types across the queried groups");
        }
        orderType = t;
      }
      for (ShardIndex s : store.shardsOf(g)) {
        searches.add(new ShardSearch(s, q));
      }
    }
    org.apache.lucene.search.Sort sort = orderType == null ? null : tagSort(orderTag, orderType, desc);
    List<PropertyRecord> hits = searches.isEmpty() ? List.of() : MultiShardSearcher.search(searches, limit, sort);
    QueryResponse.Builder out = QueryResponse.newBuilder();
    Set<String> projection = new HashSet<>(req.getTagProjectionList());
    for (PropertyRecord r : hits) {
      out.addProperties(project(r, projection));
    }
    if (req.getTrace()) {
      long end = System.nanoTime();
      out.setTrace(
          Trace.newBuilder()
              .setTraceId(Long.toHexString(start))
              .addSpans(
                  Span.newBuilder()
                      .setMessage("query " + searches.size() + " shard(s), " + hits.size() + " result(s)")
                      .setDuration(end - start)));
    }
    return out.build();
  }

  private Query groupQuery(String group, QueryRequest req) {
    BooleanQuery.Builder b = new BooleanQuery.Builder();
    b.add(new TermQuery(new Term(DocumentCodec.LIVE, DocumentCodec.LIVE_YES)), Occur.FILTER);
    if (!req.getName().isEmpty()) {
      b.add(new TermQuery(new Term(DocumentCodec.NAME, req.getName())), Occur.FILTER);
    }
    if (req.getIdsCount() > 0) {
      BooleanQuery.Builder ids = new BooleanQuery.Builder().setMinimumNumberShouldMatch(1);
      for (String id : new LinkedHashSet<>(req.getIdsList())) {
        ids.add(new TermQuery(new Term(DocumentCodec.ID, id)), Occur.SHOULD);
      }
      b.add(ids.build(), Occur.FILTER);
    }
    if (req.hasCriteria()) {
      String schemaName = req.getName();
      b.add(new CriteriaTranslator(tag -> lookup.tagType(group, schemaName, tag)).translate(req.getCriteria()), Occur.FILTER);
    }
    return b.build();
  }

  private static TagKind kind(TagType t) {
    return switch (t) {
      case TAG_TYPE_INT, TAG_TYPE_INT_ARRAY -> TagKind.LONG;
      case TAG_TYPE_TIMESTAMP -> TagKind.TIMESTAMP;
      case TAG_TYPE_DATA_BINARY -> TagKind.BINARY;
      default -> TagKind.STRING;
    };
  }

  /** Sort by a tag with properties lacking it last, then by key for a stable order. */
  private static org.apache.lucene.search.Sort tagSort(String tag, TagType type, boolean desc) {
    TagKind k = kind(type);
    String field = DocumentCodec.tagField(k, tag);
    SortField keyOrder = ShardIndex.KEY_ORDER.getSort()[0];
    if (k == TagKind.LONG) {
      // Presence first: a missing value must not tie with a real Long.MIN/MAX_VALUE.
      SortField present = new SortField(DocumentCodec.tagField(TagKind.PRESENT, tag), SortField.Type.LONG, true);
      present.setMissingValue(0L);
      SortField value = new SortedNumericSortField(field, SortField.Type.LONG, desc);
      return new org.apache.lucene.search.Sort(present, value, keyOrder);
    }
    SortField sf = new SortedSetSortField(field, desc);
    sf.setMissingValue(desc ? SortField.STRING_FIRST : SortField.STRING_LAST);
    return new org.apache.lucene.search.Sort(sf, keyOrder);
  }

  private static Property project(PropertyRecord r, Set<String> projection) {
    Property p;
    try {
      p = Property.parseFrom(r.source());
    } catch (InvalidProtocolBufferException e) {
      throw new StorageException("stored property " + r.key() + " is unreadable", e);
    }
    if (projection.isEmpty()) {
      return p;
    }
    Property.Builder b = p.toBuilder().clearTags();
    for (Tag t : p.getTagsList()) {
      if (projection.contains(t.getKey())) {
        b.addTags(t);
      }
    }
    return b.build();
  }
}
