package dev.arbor.liaison;

import static dev.arbor.liaison.ApiTestSupport.assertStatus;
import static dev.arbor.liaison.ApiTestSupport.binary;
import static dev.arbor.liaison.ApiTestSupport.cond;
import static dev.arbor.liaison.ApiTestSupport.int64;
import static dev.arbor.liaison.ApiTestSupport.intArray;
import static dev.arbor.liaison.ApiTestSupport.logical;
import static dev.arbor.liaison.ApiTestSupport.meta;
import static dev.arbor.liaison.ApiTestSupport.property;
import static dev.arbor.liaison.ApiTestSupport.propertyGroup;
import static dev.arbor.liaison.ApiTestSupport.query;
import static dev.arbor.liaison.ApiTestSupport.schema;
import static dev.arbor.liaison.ApiTestSupport.spec;
import static dev.arbor.liaison.ApiTestSupport.str;
import static dev.arbor.liaison.ApiTestSupport.strArray;
import static dev.arbor.liaison.ApiTestSupport.tag;
import static dev.arbor.liaison.ApiTestSupport.unique;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.IntervalRule;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceUpdateRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceUpdateRequest;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Condition;
import dev.arbor.api.banyandb.model.v1.Condition.BinaryOp;
import dev.arbor.api.banyandb.model.v1.Criteria;
import dev.arbor.api.banyandb.model.v1.LogicalExpression;
import dev.arbor.api.banyandb.model.v1.LogicalExpression.LogicalOp;
import dev.arbor.api.banyandb.model.v1.Sort;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.ApplyResponse;
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.QueryOrder;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import io.grpc.Status;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad requests to the public API: each class of mistake gets a precise status code, and the
 * description names the offending proto field path (the server's convention). Run against one
 * server with small limits; the last test checks that it still serves valid requests.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PropertyApiErrorsTest {

  static final int MAX_PROPERTY_BYTES = 2048;
  static final int MAX_TAGS = 4;
  static final int MAX_IDS = 5;
  static final int MAX_LIMIT = 50;

  @TempDir static Path tempDir;

  static ApiTestSupport.Fixture api;

  /** Group with schema S: name STRING, port INT, blob DATA_BINARY. */
  static final String G = "errors";

  static final String S = "svc";

  @BeforeAll
  static void startServer() throws Exception {
    api =
        ApiTestSupport.Fixture.start(
            tempDir, new RequestLimits(MAX_PROPERTY_BYTES, MAX_TAGS, MAX_IDS, MAX_LIMIT));
    api.createGroup(G, 2);
    api.createSchema(
        G,
        S,
        spec("name", TagType.TAG_TYPE_STRING),
        spec("port", TagType.TAG_TYPE_INT),
        spec("blob", TagType.TAG_TYPE_DATA_BINARY));
    ApplyResponse r = api.apply(valid("seed"));
    assertThat(r.getCreated()).isTrue();
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (api != null) {
      api.close();
    }
  }

  static Property valid(String id) {
    return property(G, S, id, tag("name", str("n-" + id)), tag("port", int64(80)));
  }

  static void apply(Property p) {
    api.properties.apply(
        ApplyRequest.newBuilder()
            .setProperty(p)
            .setStrategy(ApplyRequest.Strategy.STRATEGY_MERGE)
            .build());
  }

  // =============================================================================================
  // Apply

  @Test
  void applyWithoutProperty() {
    assertStatus(
        () -> api.properties.apply(ApplyRequest.getDefaultInstance()),
        Status.Code.INVALID_ARGUMENT,
        "property");
  }

  @Test
  void applyEmptyId() {
    assertStatus(
        () -> apply(valid("x").toBuilder().setId("").build()),
        Status.Code.INVALID_ARGUMENT,
        "property.id");
  }

  @Test
  void applyMissingMetadata() {
    assertStatus(
        () -> apply(valid("x").toBuilder().clearMetadata().build()),
        Status.Code.INVALID_ARGUMENT,
        "property.metadata");
  }

  @Test
  void applyEmptyGroup() {
    assertStatus(
        () -> apply(valid("x").toBuilder().setMetadata(meta("", S)).build()),
        Status.Code.INVALID_ARGUMENT,
        "property.metadata.group");
  }

  @Test
  void applyEmptyName() {
    assertStatus(
        () -> apply(valid("x").toBuilder().setMetadata(meta(G, "")).build()),
        Status.Code.INVALID_ARGUMENT,
        "property.metadata.name");
  }

  @Test
  void applySlashInGroup() {
    assertStatus(
        () -> apply(valid("x").toBuilder().setMetadata(meta(G + "/x", S)).build()),
        Status.Code.INVALID_ARGUMENT,
        "property.metadata.group");
  }

  @Test
  void applySlashInName() {
    assertStatus(
        () -> apply(valid("x").toBuilder().setMetadata(meta(G, S + "/x")).build()),
        Status.Code.INVALID_ARGUMENT,
        "property.metadata.name");
  }

  @Test
  void applyNoTags() {
    assertStatus(
        () -> apply(valid("x").toBuilder().clearTags().build()),
        Status.Code.INVALID_ARGUMENT,
        "property.tags");
  }

  @Test
  void applyUnknownTag() {
    assertStatus(
        () -> apply(valid("x").toBuilder().addTags(tag("nosuchtag", str("v"))).build()),
        Status.Code.INVALID_ARGUMENT,
        "nosuchtag");
  }

  static Stream<Arguments> wrongTypes() {
    return Stream.of(
        Arguments.of(tag("port", str("eighty"))),
        Arguments.of(tag("port", intArray(80))),
        Arguments.of(tag("name", int64(1))),
        Arguments.of(tag("name", strArray("a"))),
        Arguments.of(tag("blob", str("not-bytes"))));
  }

  @ParameterizedTest
  @MethodSource("wrongTypes")
  void applyWrongValueType(Tag wrong) {
    assertStatus(
        () -> apply(property(G, S, "x", wrong)), Status.Code.INVALID_ARGUMENT, wrong.getKey());
  }

  @Test
  void applyMoreTagsThanSchema() {
    // Four tags, all of them known keys, against a three-tag schema.
    Property p =
        property(
            G,
            S,
            "x",
            tag("name", str("a")),
            tag("port", int64(1)),
            tag("blob", binary(new byte[] {1})),
            tag("name", str("b")));
    assertStatus(() -> apply(p), Status.Code.INVALID_ARGUMENT, "property.tags");
  }

  @Test
  void applyLargerThanMaxPropertyBytes() {
    Property p =
        property(
            G,
            S,
            "big",
            tag("name", str("a")),
            tag("blob", binary(new byte[MAX_PROPERTY_BYTES * 2])));
    assertStatus(() -> apply(p), Status.Code.INVALID_ARGUMENT, "property", "bytes");
    // Nothing was stored.
    assertThat(api.query(query(S, G).addIds("big"))).isEmpty();
  }

  @Test
  void applyMissingGroup() {
    String missing = unique("no-group");
    assertStatus(
        () -> apply(valid("x").toBuilder().setMetadata(meta(missing, S)).build()),
        Status.Code.NOT_FOUND,
        missing);
  }

  @Test
  void applyMissingSchema() {
    String missing = unique("no-schema");
    assertStatus(
        () -> apply(valid("x").toBuilder().setMetadata(meta(G, missing)).build()),
        Status.Code.NOT_FOUND,
        missing);
  }

  @Test
  void applyUndefinedStrategy() {
    assertStatus(
        () ->
            api.properties.apply(
                ApplyRequest.newBuilder().setProperty(valid("x")).setStrategyValue(7).build()),
        Status.Code.INVALID_ARGUMENT,
        "strategy");
  }

  // =============================================================================================
  // Group create

  static void createGroup(Group g) {
    api.groups.create(GroupRegistryServiceCreateRequest.newBuilder().setGroup(g).build());
  }

  @ParameterizedTest
  @EnumSource(
      value = Catalog.class,
      names = {"CATALOG_UNSPECIFIED", "CATALOG_STREAM", "CATALOG_MEASURE", "CATALOG_TRACE"})
  void groupCatalogNotProperty(Catalog catalog) {
    Group g = propertyGroup(unique("bad-catalog"), 1).toBuilder().setCatalog(catalog).build();
    assertStatus(() -> createGroup(g), Status.Code.INVALID_ARGUMENT, "group.catalog");
  }

  @Test
  void groupShardNumZero() {
    Group g = propertyGroup(unique("bad-shards"), 0);
    assertStatus(
        () -> createGroup(g), Status.Code.INVALID_ARGUMENT, "group.resource_opts.shard_num");
  }

  @Test
  void groupWithoutResourceOpts() {
    Group g = propertyGroup(unique("no-opts"), 1).toBuilder().clearResourceOpts().build();
    assertStatus(() -> createGroup(g), Status.Code.INVALID_ARGUMENT, "group.resource_opts");
  }

  @Test
  void groupWithTtlOrSegmentInterval() {
    IntervalRule rule = IntervalRule.newBuilder().setUnit(IntervalRule.Unit.UNIT_DAY).setNum(1).build();
    Group base = propertyGroup(unique("with-ttl"), 1);
    Group withTtl =
        base.toBuilder().setResourceOpts(base.getResourceOpts().toBuilder().setTtl(rule)).build();
    assertStatus(
        () -> createGroup(withTtl), Status.Code.INVALID_ARGUMENT, "group.resource_opts.ttl");
    Group withSegment =
        base.toBuilder()
            .setResourceOpts(base.getResourceOpts().toBuilder().setSegmentInterval(rule))
            .build();
    assertStatus(
        () -> createGroup(withSegment),
        Status.Code.INVALID_ARGUMENT,
        "group.resource_opts.segment_interval");
  }

  @Test
  void groupEmptyName() {
    Group g = propertyGroup("", 1);
    assertStatus(() -> createGroup(g), Status.Code.INVALID_ARGUMENT, "group.metadata.name");
  }

  @Test
  void groupSlashInName() {
    Group g = propertyGroup("a/b", 1);
    assertStatus(() -> createGroup(g), Status.Code.INVALID_ARGUMENT, "group.metadata.name");
  }

  @Test
  void groupCreateWithoutGroup() {
    assertStatus(
        () -> api.groups.create(GroupRegistryServiceCreateRequest.getDefaultInstance()),
        Status.Code.INVALID_ARGUMENT,
        "group");
  }

  @Test
  void groupUpdateIsValidatedLikeCreate() {
    String name = unique("upd");
    api.createGroup(name, 2);
    Group bad = propertyGroup(name, 2).toBuilder().setCatalog(Catalog.CATALOG_STREAM).build();
    assertStatus(
        () -> api.groups.update(GroupRegistryServiceUpdateRequest.newBuilder().setGroup(bad).build()),
        Status.Code.INVALID_ARGUMENT,
        "group.catalog");
    assertStatus(
        () ->
            api.groups.update(
                GroupRegistryServiceUpdateRequest.newBuilder().setGroup(propertyGroup(name, 0)).build()),
        Status.Code.INVALID_ARGUMENT,
        "group.resource_opts.shard_num");
  }

  @Test
  void groupUpdateOfMissingGroup() {
    String missing = unique("upd-missing");
    assertStatus(
        () ->
            api.groups.update(
                GroupRegistryServiceUpdateRequest.newBuilder()
                    .setGroup(propertyGroup(missing, 1))
                    .build()),
        Status.Code.NOT_FOUND,
        missing);
  }

  // =============================================================================================
  // Schema create

  static void createSchema(dev.arbor.api.banyandb.database.v1.Property s) {
    api.schemas.create(PropertyRegistryServiceCreateRequest.newBuilder().setProperty(s).build());
  }

  @Test
  void schemaWithoutTags() {
    assertStatus(
        () -> createSchema(schema(G, unique("s-notags"))),
        Status.Code.INVALID_ARGUMENT,
        "property.tags");
  }

  @Test
  void schemaTagTypeUnspecified() {
    assertStatus(
        () ->
            createSchema(
                schema(
                    G,
                    unique("s-untyped"),
                    spec("fine", TagType.TAG_TYPE_STRING),
                    spec("untyped_tag", TagType.TAG_TYPE_UNSPECIFIED))),
        Status.Code.INVALID_ARGUMENT,
        "untyped_tag");
  }

  @Test
  void schemaDuplicateTagNames() {
    assertStatus(
        () ->
            createSchema(
                schema(
                    G,
                    unique("s-dup"),
                    spec("twice", TagType.TAG_TYPE_STRING),
                    spec("other", TagType.TAG_TYPE_INT),
                    spec("twice", TagType.TAG_TYPE_INT))),
        Status.Code.INVALID_ARGUMENT,
        "twice");
  }

  @Test
  void schemaMoreTagsThanLimit() {
    TagSpec[] tags = new TagSpec[MAX_TAGS + 1];
    for (int i = 0; i < tags.length; i++) {
      tags[i] = spec("t" + i, TagType.TAG_TYPE_STRING);
    }
    assertStatus(
        () -> createSchema(schema(G, unique("s-many"), tags)),
        Status.Code.INVALID_ARGUMENT,
        "property.tags");
  }

  @Test
  void schemaSlashInGroupOrName() {
    assertStatus(
        () -> createSchema(schema(G + "/x", "s", spec("k", TagType.TAG_TYPE_STRING))),
        Status.Code.INVALID_ARGUMENT,
        "property.metadata.group");
    assertStatus(
        () -> createSchema(schema(G, "s/x", spec("k", TagType.TAG_TYPE_STRING))),
        Status.Code.INVALID_ARGUMENT,
        "property.metadata.name");
  }

  @Test
  void schemaUpdateIsValidatedLikeCreate() {
    assertStatus(
        () ->
            api.schemas.update(
                PropertyRegistryServiceUpdateRequest.newBuilder().setProperty(schema(G, S)).build()),
        Status.Code.INVALID_ARGUMENT,
        "property.tags");
  }

  @Test
  void schemaUpdateOfMissingSchema() {
    String missing = unique("s-missing");
    assertStatus(
        () ->
            api.schemas.update(
                PropertyRegistryServiceUpdateRequest.newBuilder()
                    .setProperty(schema(G, missing, spec("k", TagType.TAG_TYPE_STRING)))
                    .build()),
        Status.Code.NOT_FOUND,
        missing);
  }

  // =============================================================================================
  // Query

  static void runQuery(QueryRequest.Builder q) {
    api.properties.query(q.build());
  }

  @Test
  void queryWithoutGroups() {
    assertStatus(
        () -> runQuery(QueryRequest.newBuilder().setName(S)), Status.Code.INVALID_ARGUMENT, "groups");
  }

  @Test
  void queryMissingGroup() {
    String missing = unique("q-missing");
    assertStatus(() -> runQuery(query(S, G, missing)), Status.Code.NOT_FOUND, missing);
  }

  static Stream<Arguments> malformedCriteria() {
    return Stream.of(
        Arguments.of("condition without name", cond("", BinaryOp.BINARY_OP_EQ, str("x"))),
        Arguments.of("unknown tag", cond("nosuchtag", BinaryOp.BINARY_OP_EQ, str("x"))),
        Arguments.of("value type mismatch", cond("port", BinaryOp.BINARY_OP_EQ, str("eighty"))),
        Arguments.of(
            "logical expression with neither side",
            Criteria.newBuilder()
                .setLe(LogicalExpression.newBuilder().setOp(LogicalOp.LOGICAL_OP_AND))
                .build()),
        Arguments.of(
            "op unspecified", cond("name", BinaryOp.BINARY_OP_UNSPECIFIED, str("x"))),
        Arguments.of(
            "malformed condition nested in a valid AND",
            logical(
                LogicalOp.LOGICAL_OP_AND,
                cond("name", BinaryOp.BINARY_OP_EQ, str("x")),
                cond("nosuchtag", BinaryOp.BINARY_OP_EQ, str("x")))),
        Arguments.of(
            "condition without value",
            Criteria.newBuilder()
                .setCondition(
                    Condition.newBuilder().setName("name").setOp(BinaryOp.BINARY_OP_EQ))
                .build()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("malformedCriteria")
  void queryMalformedCriteria(String what, Criteria criteria) {
    assertStatus(
        () -> runQuery(query(S, G).setCriteria(criteria)),
        Status.Code.INVALID_ARGUMENT,
        "criteria");
  }

  @Test
  void queryMoreIdsThanLimit() {
    QueryRequest.Builder q = query(S, G);
    for (int i = 0; i <= MAX_IDS; i++) {
      q.addIds("id" + i);
    }
    assertStatus(() -> runQuery(q), Status.Code.INVALID_ARGUMENT, "ids");
  }

  @Test
  void queryLimitOverMax() {
    assertStatus(
        () -> runQuery(query(S, G).setLimit(MAX_LIMIT + 1)), Status.Code.INVALID_ARGUMENT, "limit");
    // At the maximum it is fine.
    assertThat(api.properties.query(query(S, G).setLimit(MAX_LIMIT).build()).getPropertiesList())
        .isNotEmpty();
  }

  @Test
  void queryOrderByUnknownTag() {
    assertStatus(
        () ->
            runQuery(
                query(S, G)
                    .setOrderBy(
                        QueryOrder.newBuilder().setTagName("nosuchtag").setSort(Sort.SORT_ASC))),
        Status.Code.INVALID_ARGUMENT,
        "order_by");
  }

  // =============================================================================================
  // Delete

  @Test
  void deleteEmptyGroup() {
    assertStatus(
        () -> api.properties.delete(DeleteRequest.newBuilder().setName(S).setId("x").build()),
        Status.Code.INVALID_ARGUMENT,
        "group");
  }

  @Test
  void deleteSlashInGroupOrName() {
    assertStatus(
        () -> api.properties.delete(DeleteRequest.newBuilder().setGroup(G + "/x").setName(S).build()),
        Status.Code.INVALID_ARGUMENT,
        "group");
    assertStatus(
        () -> api.properties.delete(DeleteRequest.newBuilder().setGroup(G).setName(S + "/x").build()),
        Status.Code.INVALID_ARGUMENT,
        "name");
  }

  @Test
  void deleteEmptyName() {
    assertStatus(
        () -> api.properties.delete(DeleteRequest.newBuilder().setGroup(G).setId("x").build()),
        Status.Code.INVALID_ARGUMENT,
        "name");
  }

  // =============================================================================================
  // Still serving

  @Test
  @Order(Integer.MAX_VALUE)
  void serverStillServesAfterBadRequests() {
    ApplyResponse r = api.apply(valid("after-errors"));
    assertThat(r.getCreated()).isTrue();
    assertThat(r.getTagsNum()).isEqualTo(2);
    List<Property> got = api.query(query(S, G).addIds("after-errors").addIds("seed"));
    assertThat(got)
        .extracting(Property::getId)
        .containsExactlyInAnyOrder("after-errors", "seed");
    // None of the rejected applies left anything behind.
    assertThat(api.query(query(S, G).setLimit(MAX_LIMIT)))
        .extracting(Property::getId)
        .containsExactlyInAnyOrder("after-errors", "seed");
  }
}
