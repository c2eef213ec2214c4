package dev.arbor.storage;

import static dev.arbor.storage.StorageTestSupport.i64;
import static dev.arbor.storage.StorageTestSupport.i64s;
import static dev.arbor.storage.StorageTestSupport.propertyBytes;
import static dev.arbor.storage.StorageTestSupport.put;
import static dev.arbor.storage.StorageTestSupport.str;
import static dev.arbor.storage.StorageTestSupport.strs;
import static dev.arbor.storage.StorageTestSupport.tag;
import static dev.arbor.storage.StorageTestSupport.ts;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Condition;
import dev.arbor.api.banyandb.model.v1.Condition.BinaryOp;
import dev.arbor.api.banyandb.model.v1.Criteria;
import dev.arbor.api.banyandb.model.v1.LogicalExpression;
import dev.arbor.api.banyandb.model.v1.LogicalExpression.LogicalOp;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause.Occur;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.SortedNumericSortField;
import org.apache.lucene.search.TermQuery;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link CriteriaTranslator} and {@link MultiShardSearcher} over real shard indexes written through
 * {@link PropertyStore}. Expected results come from an in-memory oracle over the same rows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CriteriaSearchTest {
  private static final String GROUP = "g";
  private static final String NAME = "svc";
  private static final int SHARDS = 3;
  private static final long T0 = 1_700_000_000_000_000_000L;

  private static final Map<String, TagType> SCHEMA =
      Map.of(
          "name", TagType.TAG_TYPE_STRING,
          "age", TagType.TAG_TYPE_INT,
          "labels", TagType.TAG_TYPE_STRING_ARRAY,
          "nums", TagType.TAG_TYPE_INT_ARRAY,
          "born", TagType.TAG_TYPE_TIMESTAMP);

  /** One property, as the oracle sees it. */
  record Row(String id, String name, long age, List<String> labels, List<Long> nums, long born) {}

  private Path tmp;
  private PropertyStore store;
  private final List<Row> rows = new ArrayList<>();
  private final CriteriaTranslator translator = new CriteriaTranslator(SCHEMA::get);

  @BeforeAll
  void writeRows(@TempDir Path dir) throws IOException {
    tmp = dir;
    store = PropertyStore.open(tmp.resolve("node"), g -> true);
    String[] palette = {"red", "green", "blue"};
    for (int i = 0; i < 24; i++) {
      List<String> labels = new ArrayList<>();
      for (int b = 0; b < 3; b++) {
        if ((i >> b & 1) == 1) {
          labels.add(palette[b]);
        }
      }
      Row row =
          new Row(
              String.format("p%02d", i),
              "n" + (char) ('a' + i % 5),
              i * 5L - 20, // includes negative ages
              labels,
              List.of((long) i % 4, (long) i % 3 + 10),
              T0 + i * 1_000L);
      rows.add(row);
      EntityKey key = new EntityKey(GROUP, NAME, row.id());
      long rev = 100 + i;
      byte[] src =
          propertyBytes(
              key,
              rev,
              rev,
              List.of(
                  tag("name", str(row.name())),
                  tag("age", i64(row.age())),
                  tag("labels", strs(row.labels().toArray(String[]::new))),
                  tag("nums", i64s(row.nums().toArray(Long[]::new))),
                  tag("born", ts(row.born()))));
      put(store, GROUP, ShardRouter.shardOf(key, SHARDS), PropertyRecord.live(key, rev, rev, src));
    }
    // A deleted property that would match many criteria were it live.
    EntityKey gone = new EntityKey(GROUP, NAME, "p99");
    byte[] src = propertyBytes(gone, 1, 1, List.of(tag("name", str("na")), tag("age", i64(0))));
    put(store, GROUP, ShardRouter.shardOf(gone, SHARDS), PropertyRecord.live(gone, 1, 1, src).tombstone(5));
  }

  @AfterAll
  void closeStore() throws IOException {
    store.close();
  }

  // ----- criteria builders

  private static Criteria cond(String tag, BinaryOp op, TagValue v) {
    return Criteria.newBuilder()
        .setCondition(Condition.newBuilder().setName(tag).setOp(op).setValue(v))
        .build();
  }

  private static Criteria and(Criteria l, Criteria r) {
    return Criteria.newBuilder()
        .setLe(LogicalExpression.newBuilder().setOp(LogicalOp.LOGICAL_OP_AND).setLeft(l).setRight(r))
        .build();
  }

  private static Criteria or(Criteria l, Criteria r) {
    return Criteria.newBuilder()
        .setLe(LogicalExpression.newBuilder().setOp(LogicalOp.LOGICAL_OP_OR).setLeft(l).setRight(r))
        .build();
  }

  // ----- running

  /** What the liaison runs: live documents of the schema, filtered by the criteria. */
  private Query query(Criteria c) {
    return new BooleanQuery.Builder()
        .add(new TermQuery(new Term(DocumentCodec.LIVE, DocumentCodec.LIVE_YES)), Occur.FILTER)
        .add(new TermQuery(new Term(DocumentCodec.NAME, NAME)), Occur.FILTER)
        .add(translator.translate(c), Occur.FILTER)
        .build();
  }

  private List<PropertyRecord> search(Query q, int limit, Sort sort) {
    List<ShardSearch> searches = store.shardsOf(GROUP).stream().map(s -> new ShardSearch(s, q)).toList();
    assertThat(searches).hasSize(SHARDS);
    return MultiShardSearcher.search(searches, limit, sort);
  }

  private List<String> ids(Criteria c) {
    return search(query(c), 1000, null).stream().map(r -> r.key().id()).toList();
  }

  private List<String> expected(Predicate<Row> p) {
    return rows.stream().filter(p).map(Row::id).sorted().toList();
  }

  private void check(Criteria c, Predicate<Row> oracle) {
    List<String> want = expected(oracle);
    assertThat(ids(c)).as("criteria %s", c).containsExactlyElementsOf(want);
  }

  // ----- comparisons

  @Test
  void intComparisons() {
    for (long x : new long[] {-20, -5, 0, 7, 45, 95, 200}) {
      check(cond("age", BinaryOp.BINARY_OP_EQ, i64(x)), r -> r.age() == x);
      check(cond("age", BinaryOp.BINARY_OP_NE, i64(x)), r -> r.age() != x);
      check(cond("age", BinaryOp.BINARY_OP_LT, i64(x)), r -> r.age() < x);
      check(cond("age", BinaryOp.BINARY_OP_LE, i64(x)), r -> r.age() <= x);
      check(cond("age", BinaryOp.BINARY_OP_GT, i64(x)), r -> r.age() > x);
      check(cond("age", BinaryOp.BINARY_OP_GE, i64(x)), r -> r.age() >= x);
    }
    check(cond("age", BinaryOp.BINARY_OP_LT, i64(Long.MIN_VALUE)), r -> false);
    check(cond("age", BinaryOp.BINARY_OP_GT, i64(Long.MAX_VALUE)), r -> false);
    check(cond("age", BinaryOp.BINARY_OP_GE, i64(Long.MIN_VALUE)), r -> true);
  }

  @Test
  void stringComparisons() {
    for (String x : new String[] {"na", "nc", "ne", "nz", "a", ""}) {
      check(cond("name", BinaryOp.BINARY_OP_EQ, str(x)), r -> r.name().equals(x));
      check(cond("name", BinaryOp.BINARY_OP_NE, str(x)), r -> !r.name().equals(x));
      check(cond("name", BinaryOp.BINARY_OP_LT, str(x)), r -> r.name().compareTo(x) < 0);
      check(cond("name", BinaryOp.BINARY_OP_LE, str(x)), r -> r.name().compareTo(x) <= 0);
      check(cond("name", BinaryOp.BINARY_OP_GT, str(x)), r -> r.name().compareTo(x) > 0);
      check(cond("name", BinaryOp.BINARY_OP_GE, str(x)), r -> r.name().compareTo(x) >= 0);
    }
  }

  @Test
  void timestampComparisons() {
    long x = T0 + 10_000;
    check(cond("born", BinaryOp.BINARY_OP_EQ, ts(x)), r -> r.born() == x);
    check(cond("born", BinaryOp.BINARY_OP_GT, ts(x)), r -> r.born() > x);
    check(cond("born", BinaryOp.BINARY_OP_LE, ts(x + 1)), r -> r.born() <= x + 1);
  }

  @Test
  void inAndNotIn() {
    check(cond("age", BinaryOp.BINARY_OP_IN, i64s(-20L, 25L, 26L, 95L)), r -> Set.of(-20L, 25L, 95L).contains(r.age()));
    check(cond("age", BinaryOp.BINARY_OP_NOT_IN, i64s(-20L, 25L, 26L, 95L)), r -> !Set.of(-20L, 25L, 95L).contains(r.age()));
    check(cond("name", BinaryOp.BINARY_OP_IN, strs("na", "nd", "zz")), r -> Set.of("na", "nd").contains(r.name()));
    check(cond("name", BinaryOp.BINARY_OP_NOT_IN, strs("na", "nd")), r -> !Set.of("na", "nd").contains(r.name()));
    check(cond("name", BinaryOp.BINARY_OP_IN, strs()), r -> false);
    check(cond("name", BinaryOp.BINARY_OP_NOT_IN, strs()), r -> true);
  }

  @Test
  void havingAndNotHavingOnArrays() {
    check(cond("labels", BinaryOp.BINARY_OP_HAVING, strs("red", "blue")),
        r -> r.labels().containsAll(List.of("red", "blue")));
    check(cond("labels", BinaryOp.BINARY_OP_HAVING, strs("green")), r -> r.labels().contains("green"));
    check(cond("labels", BinaryOp.BINARY_OP_HAVING, str("green")), r -> r.labels().contains("green"));
    check(cond("labels", BinaryOp.BINARY_OP_NOT_HAVING, strs("red", "blue")),
        r -> !r.labels().containsAll(List.of("red", "blue")));
    check(cond("nums", BinaryOp.BINARY_OP_HAVING, i64s(1L, 11L)), r -> r.nums().containsAll(List.of(1L, 11L)));
    check(cond("nums", BinaryOp.BINARY_OP_HAVING, i64(12L)), r -> r.nums().contains(12L));
    check(cond("nums", BinaryOp.BINARY_OP_NOT_HAVING, i64s(0L)), r -> !r.nums().contains(0L));
    check(cond("labels", BinaryOp.BINARY_OP_EQ, strs("red")), r -> r.labels().contains("red"));
  }

  @Test
  void logicalExpressions() {
    Criteria ageAtLeast20 = cond("age", BinaryOp.BINARY_OP_GE, i64(20));
    Criteria nameNa = cond("name", BinaryOp.BINARY_OP_EQ, str("na"));
    Criteria ageBelow0 = cond("age", BinaryOp.BINARY_OP_LT, i64(0));
    Criteria hasRed = cond("labels", BinaryOp.BINARY_OP_HAVING, strs("red"));

    check(and(ageAtLeast20, nameNa), r -> r.age() >= 20 && r.name().equals("na"));
    check(or(ageBelow0, nameNa), r -> r.age() < 0 || r.name().equals("na"));
    check(and(or(ageBelow0, nameNa), hasRed),
        r -> (r.age() < 0 || r.name().equals("na")) && r.labels().contains("red"));
    check(or(and(ageAtLeast20, hasRed), and(ageBelow0, nameNa)),
        r -> (r.age() >= 20 && r.labels().contains("red")) || (r.age() < 0 && r.name().equals("na")));
  }

  @Test
  void aLogicalExpressionWithOneSideMissingIsThatSide() {
    Criteria nameNb = cond("name", BinaryOp.BINARY_OP_EQ, str("nb"));
    Criteria leftOnly = Criteria.newBuilder()
        .setLe(LogicalExpression.newBuilder().setOp(LogicalOp.LOGICAL_OP_AND).setLeft(nameNb))
        .build();
    Criteria rightOnly = Criteria.newBuilder()
        .setLe(LogicalExpression.newBuilder().setOp(LogicalOp.LOGICAL_OP_OR).setRight(nameNb))
        .build();
    Criteria rightEmpty = Criteria.newBuilder()
        .setLe(LogicalExpression.newBuilder()
            .setOp(LogicalOp.LOGICAL_OP_AND)
            .setLeft(nameNb)
            .setRight(Criteria.getDefaultInstance()))
        .build();

    for (Criteria c : List.of(leftOnly, rightOnly, rightEmpty)) {
      check(c, r -> r.name().equals("nb"));
    }
  }

  @Test
  void tombstonesAreNotMatchedByPositiveCriteriaEvenWithoutTheLiveFilter() {
    Query q = translator.translate(cond("name", BinaryOp.BINARY_OP_EQ, str("na")));
    List<String> hits = search(q, 1000, null).stream().map(r -> r.key().id()).toList();
    assertThat(hits).doesNotContain("p99").containsExactlyElementsOf(expected(r -> r.name().equals("na")));
  }

  // ----- merging across shards

  @Test
  void mergedResultsComeInKeyOrderFromSeveralShardsAndRespectTheLimit() {
    List<PropertyRecord> all = search(query(cond("age", BinaryOp.BINARY_OP_GE, i64(-1000))), 1000, null);
    assertThat(all).hasSize(rows.size());
    List<String> entities = all.stream().map(r -> r.key().entity()).toList();
    assertThat(entities).isSortedAccordingTo(Comparator.naturalOrder());
    Set<Integer> shards = all.stream().map(r -> ShardRouter.shardOf(r.key(), SHARDS)).collect(Collectors.toSet());
    assertThat(shards).as("results come from every shard").hasSize(SHARDS);

    for (int limit : new int[] {1, 5, 13}) {
      List<PropertyRecord> page = search(query(cond("age", BinaryOp.BINARY_OP_GE, i64(-1000))), limit, null);
      assertThat(page).as("limit %d", limit).containsExactlyElementsOf(all.subList(0, limit));
    }
    List<String> filtered = search(query(cond("labels", BinaryOp.BINARY_OP_HAVING, strs("blue"))), 4, null)
        .stream().map(r -> r.key().id()).toList();
    assertThat(filtered).containsExactlyElementsOf(expected(r -> r.labels().contains("blue")).subList(0, 4));
  }

  @Test
  void mergedResultsFollowATagSortAcrossShards() {
    Sort byAgeDesc = new Sort(
        new SortedNumericSortField(DocumentCodec.tagField(DocumentCodec.TagKind.LONG, "age"), SortField.Type.LONG, true),
        new SortField(DocumentCodec.KEY, SortField.Type.STRING));
    List<Long> ages = search(query(cond("name", BinaryOp.BINARY_OP_NE, str("nz"))), 6, byAgeDesc).stream()
        .map(r -> rows.get(Integer.parseInt(r.key().id().substring(1))).age())
        .toList();
    List<Long> want = rows.stream().map(Row::age).sorted(Comparator.reverseOrder()).limit(6).toList();
    assertThat(ages).containsExactlyElementsOf(want);
  }

  @Test
  void searchSeesWritesMadeAfterAnEarlierSearch() throws IOException {
    try (PropertyStore s = PropertyStore.open(tmp.resolve("fresh"), g -> true)) {
      EntityKey a = new EntityKey("x", NAME, "a");
      EntityKey b = new EntityKey("x", NAME, "b");
      put(s, "x", 0, PropertyRecord.live(a, 1, 1, propertyBytes(a, 1, 1, List.of(tag("age", i64(1))))));
      Query all = new MatchAllDocsQuery();
      assertThat(MultiShardSearcher.search(List.of(new ShardSearch(s.existingShard("x", 0), all)), 10, null)).hasSize(1);
      put(s, "x", 1, PropertyRecord.live(b, 2, 2, propertyBytes(b, 2, 2, List.of(tag("age", i64(2))))));
      put(s, "x", 0, PropertyRecord.live(a, 3, 1, propertyBytes(a, 3, 1, List.of(tag("age", i64(3))))));
      List<PropertyRecord> got = MultiShardSearcher.search(
          List.of(new ShardSearch(s.existingShard("x", 0), all), new ShardSearch(s.existingShard("x", 1), all)), 10, null);
      assertThat(got).extracting(r -> r.key().id()).containsExactly("a", "b");
      assertThat(got.get(0).modRevision()).isEqualTo(3);
    }
  }

  // ----- invalid criteria

  private void assertInvalid(Criteria c, String... fragments) {
    var thrown = assertThatThrownBy(() -> translator.translate(c))
        .as("criteria %s", c)
        .isInstanceOf(InvalidArgumentException.class)
        .hasMessageContaining("criteria");
    if (fragments.length > 0) {
      thrown.hasMessageContainingAll(fragments);
    }
  }

  @Test
  void unknownTagIsInvalid() {
    assertInvalid(cond("nope", BinaryOp.BINARY_OP_EQ, str("x")), "nope");
    assertInvalid(and(cond("name", BinaryOp.BINARY_OP_EQ, str("na")), cond("nope", BinaryOp.BINARY_OP_EQ, i64(1))),
        "nope", "right");
  }

  @Test
  void typeMismatchIsInvalid() {
    assertInvalid(cond("age", BinaryOp.BINARY_OP_EQ, str("10")), "age");
    assertInvalid(cond("name", BinaryOp.BINARY_OP_EQ, i64(10)), "name");
    assertInvalid(cond("age", BinaryOp.BINARY_OP_GT, str("10")), "age");
    assertInvalid(cond("born", BinaryOp.BINARY_OP_LT, i64(10)), "born");
    assertInvalid(cond("age", BinaryOp.BINARY_OP_EQ, TagValue.getDefaultInstance()), "age", "missing");
    assertInvalid(cond("age", BinaryOp.BINARY_OP_IN, strs("1")), "age");
    assertInvalid(cond("name", BinaryOp.BINARY_OP_IN, str("na")), "name");
    assertInvalid(cond("nums", BinaryOp.BINARY_OP_HAVING, strs("1")), "nums");
  }

  @Test
  void unsupportedOperatorsForATagTypeAreInvalid() {
    assertInvalid(cond("labels", BinaryOp.BINARY_OP_LT, str("red")), "labels");
    assertInvalid(cond("name", BinaryOp.BINARY_OP_HAVING, strs("na")), "name");
    assertInvalid(cond("labels", BinaryOp.BINARY_OP_HAVING, strs()), "labels");
    assertInvalid(cond("name", BinaryOp.BINARY_OP_MATCH, str("na")), "MATCH");
  }

  @Test
  void emptyCriteriaIsInvalid() {
    assertInvalid(Criteria.getDefaultInstance(), "empty");
    assertInvalid(Criteria.newBuilder().setLe(LogicalExpression.newBuilder().setOp(LogicalOp.LOGICAL_OP_AND)).build());
    assertInvalid(Criteria.newBuilder().setCondition(Condition.newBuilder().setOp(BinaryOp.BINARY_OP_EQ).setValue(str("x"))).build(),
        "name");
  }

  @Test
  void unspecifiedOperatorsAreInvalid() {
    assertInvalid(cond("name", BinaryOp.BINARY_OP_UNSPECIFIED, str("na")), "op");
    Criteria unknownOp = Criteria.newBuilder()
        .setCondition(Condition.newBuilder().setName("name").setOpValue(99).setValue(str("na")))
        .build();
    assertInvalid(unknownOp, "op");
    Criteria noLogicalOp = Criteria.newBuilder()
        .setLe(LogicalExpression.newBuilder()
            .setLeft(cond("name", BinaryOp.BINARY_OP_EQ, str("na")))
            .setRight(cond("age", BinaryOp.BINARY_OP_EQ, i64(1))))
        .build();
    assertInvalid(noLogicalOp, "op");
  }

  @Test
  void oracleSanity() {
    // guard against a vacuous oracle: the data set exercises each shape
    assertThat(rows).hasSize(24);
    assertThat(new TreeSet<>(rows.stream().map(Row::name).toList())).hasSize(5);
    assertThat(IntStream.range(0, rows.size()).filter(i -> rows.get(i).labels().isEmpty()).count()).isPositive();
  }
}
