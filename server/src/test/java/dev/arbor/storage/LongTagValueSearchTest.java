package dev.arbor.storage;

import static dev.arbor.storage.StorageTestSupport.propertyBytes;
import static dev.arbor.storage.StorageTestSupport.put;
import static dev.arbor.storage.StorageTestSupport.str;
import static dev.arbor.storage.StorageTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Condition;
import dev.arbor.api.banyandb.model.v1.Condition.BinaryOp;
import dev.arbor.api.banyandb.model.v1.Criteria;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.query.TagOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.SortedSetSortField;
import org.apache.lucene.search.TermQuery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * String values longer than {@link DocumentCodec#SHORT_VALUE_BYTES} are indexed by hash and
 * prefix: equality stays exact (also between values sharing their prefix, and for values of any
 * length), ranges with short bounds are exact, and the index orders them exactly as
 * {@link TagOrder} (the liaison's merge) does.
 */
class LongTagValueSearchTest {
  private static final String G = "g";
  private static final String NAME = "doc";
  private static final String PREFIX = "p".repeat(DocumentCodec.ORDER_PREFIX_BYTES);

  @TempDir Path dir;

  private final Map<String, String> bodies = new LinkedHashMap<>();

  private PropertyStore store() throws Exception {
    bodies.put("short", "hello");
    bodies.put("at-limit", "a".repeat(DocumentCodec.SHORT_VALUE_BYTES));
    bodies.put("just-over", "a".repeat(DocumentCodec.SHORT_VALUE_BYTES + 1));
    bodies.put("shared-1", PREFIX + "one");
    bodies.put("shared-2", PREFIX + "two");
    bodies.put("prefix-itself", PREFIX);
    bodies.put("huge", "z".repeat(9000));
    bodies.put("mid", "m".repeat(300));
    PropertyStore store = PropertyStore.open(dir.resolve("node"), g -> true);
    long rev = 1;
    for (var e : bodies.entrySet()) {
      EntityKey key = new EntityKey(G, NAME, e.getKey());
      put(store, G, 0, PropertyRecord.live(key, rev, rev, propertyBytes(key, rev, rev, List.of(tag("body", str(e.getValue()))))));
      rev++;
    }
    return store;
  }

  private static Query query(Criteria c) {
    return new BooleanQuery.Builder()
        .add(new TermQuery(new Term(DocumentCodec.LIVE, DocumentCodec.LIVE_YES)), Occur.FILTER)
        .add(new CriteriaTranslator(t -> TagType.TAG_TYPE_STRING).translate(c), Occur.FILTER)
        .build();
  }

  private static Criteria cond(BinaryOp op, String v) {
    return Criteria.newBuilder().setCondition(Condition.newBuilder().setName("body").setOp(op).setValue(str(v))).build();
  }

  private static List<String> ids(PropertyStore store, Query q, Sort sort) {
    return MultiShardSearcher.search(List.of(new ShardSearch(store.existingShard(G, 0), q)), 100, sort)
        .stream().map(r -> r.key().id()).toList();
  }

  @Test
  void equalityIsExactForValuesOfEveryLength() throws Exception {
    try (PropertyStore store = store()) {
      for (var e : bodies.entrySet()) {
        assertThat(ids(store, query(cond(BinaryOp.BINARY_OP_EQ, e.getValue())), null))
            .as("%s (%d bytes)", e.getKey(), e.getValue().length()).containsExactly(e.getKey());
      }
      assertThat(ids(store, query(cond(BinaryOp.BINARY_OP_EQ, PREFIX + "three")), null)).isEmpty();
      assertThat(ids(store, query(cond(BinaryOp.BINARY_OP_NE, "hello")), null)).hasSize(bodies.size() - 1);
    }
  }

  @Test
  void rangesWithShortBoundsAreExact() throws Exception {
    try (PropertyStore store = store()) {
      for (String x : new String[] {"a", "hello", "m", "n", "p", "q", "zz"}) {
        List<String> gt = bodies.entrySet().stream().filter(e -> e.getValue().compareTo(x) > 0).map(Map.Entry::getKey).sorted().toList();
        List<String> le = bodies.entrySet().stream().filter(e -> e.getValue().compareTo(x) <= 0).map(Map.Entry::getKey).sorted().toList();
        assertThat(ids(store, query(cond(BinaryOp.BINARY_OP_GT, x)), null)).as("> %s", x).containsExactlyElementsOf(gt);
        assertThat(ids(store, query(cond(BinaryOp.BINARY_OP_LE, x)), null)).as("<= %s", x).containsExactlyElementsOf(le);
      }
    }
  }

  @Test
  void theIndexOrdersLongValuesExactlyAsTheLiaisonMerge() throws Exception {
    try (PropertyStore store = store()) {
      for (boolean desc : new boolean[] {false, true}) {
        SortField byBody = new SortedSetSortField(DocumentCodec.tagField(DocumentCodec.TagKind.STRING, "body"), desc);
        Sort sort = new Sort(byBody, new SortField(DocumentCodec.KEY, SortField.Type.STRING));
        Query all = new TermQuery(new Term(DocumentCodec.LIVE, DocumentCodec.LIVE_YES));
        List<String> fromIndex = ids(store, all, sort);

        List<Map.Entry<String, Property>> props = new ArrayList<>();
        for (PropertyRecord r : MultiShardSearcher.search(List.of(new ShardSearch(store.existingShard(G, 0), all)), 100, null)) {
          props.add(Map.entry(r.key().entity(), Property.parseFrom(r.source())));
        }
        props.sort(TagOrder.comparator("body", desc, Map.Entry::getValue, Map.Entry::getKey));
        assertThat(fromIndex).as("descending %s", desc)
            .containsExactlyElementsOf(props.stream().map(e -> e.getValue().getId()).toList());
      }
      // Sharing the first 129 bytes, these two tie on the value and go by key.
      assertThat(PREFIX.getBytes(StandardCharsets.UTF_8)).hasSize(DocumentCodec.ORDER_PREFIX_BYTES);
    }
  }
}
