package dev.arbor.query;

import com.google.protobuf.ByteString;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Sort;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.CriteriaTranslator;
import dev.arbor.storage.DocumentCodec;
import dev.arbor.storage.DocumentCodec.TagKind;
import dev.arbor.storage.MultiShardSearcher;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardIndex;
import dev.arbor.storage.ShardSearch;
import dev.arbor.storage.ShardSearchStats;
import java.util.ArrayList;
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
 * Runs a property query against this node's shards: checks the groups, name, criteria and order
 * against the schemas, builds one Lucene query per group, and merges the shards' hits in order
 * (by the {@code order_by} tag when one is named, properties lacking it last; otherwise by entity
 * key), at most {@code limit}. Returns whole live records; projection is the caller's business.
 * Shared by the public API (standalone) and the data node's internal API.
 */
public final class QueryPlanner {
  /** {@code limit = 0} means this many, as the BanyanDB client expects. */
  public static final int DEFAULT_LIMIT = QueryLimit.DEFAULT;

  /** Which shards of a group to search. */
  @FunctionalInterface
  public interface ShardFilter {
    ShardFilter ALL = (group, shard) -> true;

    boolean includes(String group, int shard);
  }

  private final SchemaLookup lookup;
  private final PropertyStore store;

  public QueryPlanner(SchemaLookup lookup, PropertyStore store) {
    this.lookup = lookup;
    this.store = store;
  }

  /** The live records matching {@code req} on the shards {@code filter} admits. */
  public List<PropertyRecord> search(QueryRequest req, ShardFilter filter) {
    return search(req, filter, null);
  }

  /** As {@link #search(QueryRequest, ShardFilter)}, recording each shard's share in {@code stats} (null: none). */
  public List<PropertyRecord> search(QueryRequest req, ShardFilter filter, ShardSearchStats stats) {
    Plan plan = plan(req, filter);
    return plan.searches().isEmpty() ? List.of()
        : MultiShardSearcher.search(plan.searches(), plan.limit(), plan.sort(), stats);
  }

  /**
   * One page of {@link #search}: offers {@code sink} the matches after the position
   * {@code pageToken} names (empty: from the first), in order, until it declines one or the
   * query's limit is reached. Returns the token of the next page, empty when nothing more matches.
   *
   * @param tokenField the request field the token came in, named when it does not fit the query
   */
  public ByteString page(QueryRequest req, ShardFilter filter, ByteString pageToken, String tokenField,
      MultiShardSearcher.HitSink sink) {
    return page(req, filter, pageToken, tokenField, sink, null);
  }

  /** As {@link #page(QueryRequest, ShardFilter, ByteString, String, MultiShardSearcher.HitSink)}, with stats. */
  public ByteString page(QueryRequest req, ShardFilter filter, ByteString pageToken, String tokenField,
      MultiShardSearcher.HitSink sink, ShardSearchStats stats) {
    Plan plan = plan(req, filter);
    org.apache.lucene.search.Sort order = plan.sort() == null ? ShardIndex.KEY_ORDER : plan.sort();
    Object[] after = PageToken.decode(pageToken, order, tokenField);
    if (plan.searches().isEmpty()) {
      return ByteString.EMPTY;
    }
    MultiShardSearcher.VisitEnd end = MultiShardSearcher.visit(plan.searches(), plan.limit(), order, after, sink, stats);
    if (!end.more()) {
      return ByteString.EMPTY;
    }
    // More match but none was taken (a sink that takes nothing): continue from where this began.
    return end.last() == null ? pageToken : PageToken.encode(end.last());
  }

  /** What to search: one query per shard, the order (null: entity key) and the limit. */
  private record Plan(List<ShardSearch> searches, org.apache.lucene.search.Sort sort, int limit) {}

  private Plan plan(QueryRequest req, ShardFilter filter) {
    if (req.getGroupsCount() == 0) {
      throw new InvalidArgumentException("groups must name at least one property group");
    }
    int limit = QueryLimit.clamped(req.getLimit());
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
        if (filter.includes(g, s.shard())) {
          searches.add(new ShardSearch(s, q));
        }
      }
    }
    return new Plan(searches, orderType == null ? null : tagSort(orderTag, orderType, desc), limit);
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
}
