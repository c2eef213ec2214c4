package dev.arbor.liaison;

import static dev.arbor.liaison.ApiTestSupport.and;
import static dev.arbor.liaison.ApiTestSupport.assertStatus;
import static dev.arbor.liaison.ApiTestSupport.binary;
import static dev.arbor.liaison.ApiTestSupport.cond;
import static dev.arbor.liaison.ApiTestSupport.ids;
import static dev.arbor.liaison.ApiTestSupport.int64;
import static dev.arbor.liaison.ApiTestSupport.intArray;
import static dev.arbor.liaison.ApiTestSupport.logical;
import static dev.arbor.liaison.ApiTestSupport.meta;
import static dev.arbor.liaison.ApiTestSupport.nullValue;
import static dev.arbor.liaison.ApiTestSupport.or;
import static dev.arbor.liaison.ApiTestSupport.property;
import static dev.arbor.liaison.ApiTestSupport.propertyGroup;
import static dev.arbor.liaison.ApiTestSupport.query;
import static dev.arbor.liaison.ApiTestSupport.schema;
import static dev.arbor.liaison.ApiTestSupport.spec;
import static dev.arbor.liaison.ApiTestSupport.str;
import static dev.arbor.liaison.ApiTestSupport.strArray;
import static dev.arbor.liaison.ApiTestSupport.tag;
import static dev.arbor.liaison.ApiTestSupport.tagKeys;
import static dev.arbor.liaison.ApiTestSupport.timestamp;
import static dev.arbor.liaison.ApiTestSupport.unique;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Timestamp;
import dev.arbor.api.banyandb.common.v1.GetAPIVersionRequest;
import dev.arbor.api.banyandb.common.v1.GetAPIVersionResponse;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceDeleteRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceExistRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceGetRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceListRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceUpdateRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceDeleteRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceExistRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceExistResponse;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceGetRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceListRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceUpdateRequest;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Condition.BinaryOp;
import dev.arbor.api.banyandb.model.v1.Criteria;
import dev.arbor.api.banyandb.model.v1.LogicalExpression.LogicalOp;
import dev.arbor.api.banyandb.model.v1.Sort;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.property.v1.ApplyRequest.Strategy;
import dev.arbor.api.banyandb.property.v1.ApplyResponse;
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.DeleteResponse;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.QueryOrder;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Semantics of the public (BanyanDB 0.9 compatible) property API, over real gRPC on loopback
 * against a real standalone server. References: shared/spec/client-compat.md and
 * property-repair-spec.md §1.2, §2.1–2.3.
 */
class PropertyApiSemanticsTest {

  @TempDir static Path tempDir;

  static ApiTestSupport.Fixture api;

  @BeforeAll
  static void startServer() throws Exception {
    api = ApiTestSupport.Fixture.start(Files.createDirectories(tempDir.resolve("shared")));
  }

  @AfterAll
  static void stopServer() throws Exception {
    if (api != null) {
      api.close();
    }
  }

  private static Group getGroup(ApiTestSupport.Fixture f, String name) {
    return f.groups
        .get(GroupRegistryServiceGetRequest.newBuilder().setGroup(name).build())
        .getGroup();
  }

  private static dev.arbor.api.banyandb.database.v1.Property getSchema(
      ApiTestSupport.Fixture f, String group, String name) {
    return f.schemas
        .get(PropertyRegistryServiceGetRequest.newBuilder().setMetadata(meta(group, name)).build())
        .getProperty();
  }

  /** The group without the two fields the server is allowed to fill. */
  private static Group withoutRevisions(Group g) {
    return g.toBuilder()
        .setMetadata(g.getMetadata().toBuilder().clearCreateRevision().clearModRevision())
        .build();
  }

  /** The schema without the fields the server is allowed to fill (revisions, updated_at). */
  private static dev.arbor.api.banyandb.database.v1.Property withoutServerFields(
      dev.arbor.api.banyandb.database.v1.Property s) {
    return s.toBuilder()
        .setMetadata(s.getMetadata().toBuilder().clearCreateRevision().clearModRevision())
        .clearUpdatedAt()
        .build();
  }

  private static Property single(List<Property> ps) {
    assertThat(ps).hasSize(1);
    return ps.get(0);
  }

  // =============================================================================================
  // Group registry

  @Test
  void groupCreateGetReturnsGroupAsSentPlusRevisions() {
    String name = unique("grp");
    Group sent = api.createGroup(name, 2);

    Group got = getGroup(api, name);
    assertThat(got.getMetadata().getCreateRevision()).isPositive();
    assertThat(got.getMetadata().getModRevision()).isPositive();
    // Everything else exactly as sent: the official client's test compares whole messages (no
    // created_at/updated_at the caller did not send).
    assertThat(withoutRevisions(got)).isEqualTo(sent);
    assertThat(got.hasCreatedAt()).isFalse();
    assertThat(got.hasUpdatedAt()).isFalse();
  }

  @Test
  void groupTimestampsSentByTheCallerAreKept() {
    String name = unique("grp-ts");
    Group sent =
        propertyGroup(name, 2).toBuilder()
            .setCreatedAt(Timestamp.newBuilder().setSeconds(1_600_000_000L).setNanos(7))
            .setUpdatedAt(Timestamp.newBuilder().setSeconds(1_600_000_100L))
            .build();
    api.groups.create(GroupRegistryServiceCreateRequest.newBuilder().setGroup(sent).build());
    assertThat(withoutRevisions(getGroup(api, name))).isEqualTo(sent);
  }

  @Test
  void groupListContainsCreatedGroups() {
    String a = unique("grp-list-a");
    String b = unique("grp-list-b");
    Group ga = api.createGroup(a, 1);
    Group gb = api.createGroup(b, 3);

    List<Group> listed =
        api.groups.list(GroupRegistryServiceListRequest.getDefaultInstance()).getGroupList();
    Map<String, Group> byName =
        listed.stream()
            .collect(Collectors.toMap(g -> g.getMetadata().getName(), Function.identity()));
    assertThat(byName).containsKeys(a, b);
    assertThat(withoutRevisions(byName.get(a))).isEqualTo(ga);
    assertThat(withoutRevisions(byName.get(b))).isEqualTo(gb);
    assertThat(byName.get(a).getMetadata().getCreateRevision()).isPositive();
  }

  @Test
  void groupUpdateKeepsCreateRevision() {
    String name = unique("grp-upd");
    api.createGroup(name, 2);
    Group before = getGroup(api, name);

    Group updated =
        propertyGroup(name, 2).toBuilder()
            .setResourceOpts(propertyGroup(name, 2).getResourceOpts().toBuilder().setReplicas(1))
            .build();
    api.groups.update(GroupRegistryServiceUpdateRequest.newBuilder().setGroup(updated).build());

    Group after = getGroup(api, name);
    assertThat(withoutRevisions(after)).isEqualTo(updated);
    assertThat(after.getResourceOpts().getReplicas()).isEqualTo(1);
    assertThat(after.getMetadata().getCreateRevision())
        .isEqualTo(before.getMetadata().getCreateRevision());
    assertThat(after.getMetadata().getModRevision())
        .isGreaterThan(before.getMetadata().getModRevision());
  }

  @Test
  void groupExistFlags() {
    String name = unique("grp-exist");
    api.createGroup(name, 1);
    assertThat(
            api.groups
                .exist(GroupRegistryServiceExistRequest.newBuilder().setGroup(name).build())
                .getHasGroup())
        .isTrue();
    assertThat(
            api.groups
                .exist(
                    GroupRegistryServiceExistRequest.newBuilder()
                        .setGroup(unique("grp-missing"))
                        .build())
                .getHasGroup())
        .isFalse();
  }

  @Test
  void groupDeleteThenGetIsNotFound() {
    String name = unique("grp-del");
    api.createGroup(name, 2);
    api.createSchema(name, "s", spec("k", TagType.TAG_TYPE_STRING));
    api.apply(property(name, "s", "1", tag("k", str("v"))));

    boolean deleted =
        api.groups
            .delete(GroupRegistryServiceDeleteRequest.newBuilder().setGroup(name).build())
            .getDeleted();
    assertThat(deleted).isTrue();

    assertStatus(() -> getGroup(api, name), Status.Code.NOT_FOUND, name);
    assertThat(
            api.groups
                .exist(GroupRegistryServiceExistRequest.newBuilder().setGroup(name).build())
                .getHasGroup())
        .isFalse();
    assertThat(
            api.groups
                .list(GroupRegistryServiceListRequest.getDefaultInstance())
                .getGroupList()
                .stream()
                .map(g -> g.getMetadata().getName()))
        .doesNotContain(name);
    // Contents are deleted with the group (synchronously).
    assertStatus(() -> getSchema(api, name, "s"), Status.Code.NOT_FOUND);
  }

  @Test
  void groupDeleteAndRecreateStartsEmpty() {
    String name = unique("grp-recreate");
    api.createGroup(name, 2);
    api.createSchema(name, "s", spec("k", TagType.TAG_TYPE_STRING));
    api.apply(property(name, "s", "1", tag("k", str("v"))));
    api.groups.delete(GroupRegistryServiceDeleteRequest.newBuilder().setGroup(name).build());

    api.createGroup(name, 2);
    api.createSchema(name, "s", spec("k", TagType.TAG_TYPE_STRING));
    assertThat(api.query(query("s", name))).isEmpty();
    ApplyResponse r = api.apply(property(name, "s", "1", tag("k", str("v2"))));
    assertThat(r.getCreated()).isTrue();
  }

  @Test
  void groupDuplicateCreateIsAlreadyExists() {
    String name = unique("grp-dup");
    api.createGroup(name, 2);
    assertStatus(
        () ->
            api.groups.create(
                GroupRegistryServiceCreateRequest.newBuilder()
                    .setGroup(propertyGroup(name, 2))
                    .build()),
        Status.Code.ALREADY_EXISTS,
        name);
  }

  @Test
  void groupGetMissingIsNotFound() {
    String name = unique("grp-nope");
    assertStatus(() -> getGroup(api, name), Status.Code.NOT_FOUND, name);
  }

  @Test
  void freshServerListsNoGroups(@TempDir Path dir) throws Exception {
    try (ApiTestSupport.Fixture fresh = ApiTestSupport.Fixture.start(dir)) {
      assertThat(
              fresh.groups.list(GroupRegistryServiceListRequest.getDefaultInstance())
                  .getGroupList())
          .isEmpty();
    }
  }

  // =============================================================================================
  // Schema registry

  @Test
  void schemaCreateGetListUpdate() {
    String g = unique("sch");
    String other = unique("sch-other");
    api.createGroup(g, 2);
    api.createGroup(other, 1);
    var s1 =
        api.createSchema(
            g, "a", spec("name", TagType.TAG_TYPE_STRING), spec("n", TagType.TAG_TYPE_INT));
    var s2 = api.createSchema(g, "b", spec("x", TagType.TAG_TYPE_STRING_ARRAY));
    api.createSchema(other, "c", spec("y", TagType.TAG_TYPE_INT_ARRAY));

    assertThat(withoutServerFields(getSchema(api, g, "a"))).isEqualTo(s1);
    assertThat(withoutServerFields(getSchema(api, g, "b"))).isEqualTo(s2);

    var listed =
        api.schemas
            .list(PropertyRegistryServiceListRequest.newBuilder().setGroup(g).build())
            .getPropertiesList();
    assertThat(listed)
        .extracting(s -> s.getMetadata().getGroup() + "/" + s.getMetadata().getName())
        .containsExactlyInAnyOrder(g + "/a", g + "/b");
    assertThat(listed.stream().map(PropertyApiSemanticsTest::withoutServerFields))
        .containsExactlyInAnyOrder(s1, s2);

    var updated =
        schema(
            g,
            "a",
            spec("name", TagType.TAG_TYPE_STRING),
            spec("n", TagType.TAG_TYPE_INT),
            spec("extra", TagType.TAG_TYPE_TIMESTAMP));
    api.schemas.update(PropertyRegistryServiceUpdateRequest.newBuilder().setProperty(updated).build());
    assertThat(withoutServerFields(getSchema(api, g, "a"))).isEqualTo(updated);
    // The updated schema is the one Apply validates against.
    ApplyResponse r =
        api.apply(
            property(g, "a", "1", tag("extra", timestamp(1_700_000_000L, 5)), tag("n", int64(1))));
    assertThat(r.getCreated()).isTrue();
    assertThat(r.getTagsNum()).isEqualTo(2);
  }

  @Test
  void schemaCreatedAtSentByTheCallerIsKept() {
    String g = unique("sch-ts");
    api.createGroup(g, 1);
    var sent =
        schema(g, "s", spec("k", TagType.TAG_TYPE_STRING)).toBuilder()
            .setCreatedAt(Timestamp.newBuilder().setSeconds(1_600_000_000L).setNanos(9))
            .build();
    api.schemas.create(PropertyRegistryServiceCreateRequest.newBuilder().setProperty(sent).build());
    assertThat(withoutServerFields(getSchema(api, g, "s"))).isEqualTo(sent);
  }

  @Test
  void schemaIndexedOnlyIsAcceptedAndIgnored() {
    String g = unique("sch-io");
    api.createGroup(g, 1);
    var s =
        schema(
            g,
            "s",
            TagSpec.newBuilder()
                .setName("k")
                .setType(TagType.TAG_TYPE_STRING)
                .setIndexedOnly(true)
                .build());
    api.schemas.create(PropertyRegistryServiceCreateRequest.newBuilder().setProperty(s).build());
    ApplyResponse r = api.apply(property(g, "s", "1", tag("k", str("v"))));
    assertThat(r.getCreated()).isTrue();
    assertThat(single(api.query(query("s", g))).getTagsList()).containsExactly(tag("k", str("v")));
  }

  @Test
  void schemaExistFlagsAlwaysOk() {
    String g = unique("sch-exist");
    api.createGroup(g, 1);
    api.createSchema(g, "s", spec("k", TagType.TAG_TYPE_STRING));

    PropertyRegistryServiceExistResponse both = exist(g, "s");
    assertThat(both.getHasGroup()).isTrue();
    assertThat(both.getHasProperty()).isTrue();

    PropertyRegistryServiceExistResponse groupOnly = exist(g, "missing");
    assertThat(groupOnly.getHasGroup()).isTrue();
    assertThat(groupOnly.getHasProperty()).isFalse();

    PropertyRegistryServiceExistResponse none = exist(unique("no-such-group"), "s");
    assertThat(none.getHasGroup()).isFalse();
    assertThat(none.getHasProperty()).isFalse();
  }

  private static PropertyRegistryServiceExistResponse exist(String group, String name) {
    return api.schemas.exist(
        PropertyRegistryServiceExistRequest.newBuilder().setMetadata(meta(group, name)).build());
  }

  @Test
  void schemaDeleteThenGetIsNotFound() {
    String g = unique("sch-del");
    api.createGroup(g, 1);
    api.createSchema(g, "s", spec("k", TagType.TAG_TYPE_STRING));
    api.createSchema(g, "keep", spec("k", TagType.TAG_TYPE_STRING));

    boolean deleted =
        api.schemas
            .delete(PropertyRegistryServiceDeleteRequest.newBuilder().setMetadata(meta(g, "s")).build())
            .getDeleted();
    assertThat(deleted).isTrue();

    assertStatus(() -> getSchema(api, g, "s"), Status.Code.NOT_FOUND, "s");
    PropertyRegistryServiceExistResponse e = exist(g, "s");
    assertThat(e.getHasGroup()).isTrue();
    assertThat(e.getHasProperty()).isFalse();
    assertThat(
            api.schemas
                .list(PropertyRegistryServiceListRequest.newBuilder().setGroup(g).build())
                .getPropertiesList())
        .extracting(s -> s.getMetadata().getName())
        .containsExactly("keep");
  }

  @Test
  void schemaDuplicateCreateIsAlreadyExists() {
    String g = unique("sch-dup");
    api.createGroup(g, 1);
    api.createSchema(g, "s", spec("k", TagType.TAG_TYPE_STRING));
    assertStatus(
        () -> api.createSchema(g, "s", spec("k", TagType.TAG_TYPE_STRING)),
        Status.Code.ALREADY_EXISTS,
        "s");
  }

  @Test
  void schemaInMissingGroupIsNotFound() {
    String g = unique("sch-nogroup");
    assertStatus(
        () -> api.createSchema(g, "s", spec("k", TagType.TAG_TYPE_STRING)),
        Status.Code.NOT_FOUND,
        g);
  }

  @Test
  void schemaGetMissingIsNotFound() {
    String g = unique("sch-get-missing");
    api.createGroup(g, 1);
    assertStatus(() -> getSchema(api, g, "nope"), Status.Code.NOT_FOUND, "nope");
  }

  // =============================================================================================
  // Apply

  /** A group + schema with tags t1, t2, t3 (STRING) for apply tests. */
  private static String applyGroup() {
    String g = unique("apply");
    api.createGroup(g, 2);
    api.createSchema(
        g,
        "p",
        spec("t1", TagType.TAG_TYPE_STRING),
        spec("t2", TagType.TAG_TYPE_STRING),
        spec("t3", TagType.TAG_TYPE_STRING));
    return g;
  }

  private static Property getProperty(String group, String name, String id) {
    return single(api.query(query(name, group).addIds(id)));
  }

  @Test
  void firstApplyIsCreatedWithTagsNum() {
    String g = applyGroup();
    ApplyResponse r =
        api.apply(property(g, "p", "a", tag("t1", str("v1")), tag("t2", str("v2"))));
    assertThat(r.getCreated()).isTrue();
    assertThat(r.getTagsNum()).isEqualTo(2);

    Property stored = getProperty(g, "p", "a");
    assertThat(stored.getMetadata().getGroup()).isEqualTo(g);
    assertThat(stored.getMetadata().getName()).isEqualTo("p");
    assertThat(stored.getId()).isEqualTo("a");
    assertThat(stored.getTagsList())
        .containsExactly(tag("t1", str("v1")), tag("t2", str("v2")));
  }

  @ParameterizedTest
  @EnumSource(
      value = Strategy.class,
      names = {"STRATEGY_MERGE", "STRATEGY_UNSPECIFIED"})
  void mergeStoresSentTagsFirstThenOldTagsNotResent(Strategy strategy) {
    String g = applyGroup();
    api.apply(property(g, "p", "m", tag("t1", str("v1")), tag("t2", str("v2"))), strategy);

    ApplyResponse r = api.apply(property(g, "p", "m", tag("t2", str("v22"))), strategy);
    assertThat(r.getCreated()).isFalse();
    assertThat(r.getTagsNum()).isEqualTo(2);
    assertThat(getProperty(g, "p", "m").getTagsList())
        .containsExactly(tag("t2", str("v22")), tag("t1", str("v1")));

    // A further merge adds a new tag in front and keeps the rest in stored order.
    ApplyResponse r2 = api.apply(property(g, "p", "m", tag("t3", str("v3"))), strategy);
    assertThat(r2.getCreated()).isFalse();
    assertThat(r2.getTagsNum()).isEqualTo(3);
    assertThat(getProperty(g, "p", "m").getTagsList())
        .containsExactly(tag("t3", str("v3")), tag("t2", str("v22")), tag("t1", str("v1")));
  }

  @Test
  void replaceStoresExactlyTheRequestTags() {
    String g = applyGroup();
    api.apply(property(g, "p", "r", tag("t1", str("v1")), tag("t2", str("v2"))));

    ApplyResponse r =
        api.apply(
            property(g, "p", "r", tag("t3", str("v3")), tag("t2", str("v22"))),
            Strategy.STRATEGY_REPLACE);
    assertThat(r.getCreated()).isFalse();
    assertThat(r.getTagsNum()).isEqualTo(2);
    assertThat(getProperty(g, "p", "r").getTagsList())
        .containsExactly(tag("t3", str("v3")), tag("t2", str("v22")));
  }

  @Test
  void revisionsAndUpdatedAt() {
    String g = applyGroup();
    Instant before = Instant.now();
    api.apply(property(g, "p", "rev", tag("t1", str("v0"))));
    Property first = getProperty(g, "p", "rev");
    long createRevision = first.getMetadata().getCreateRevision();
    assertThat(createRevision).isPositive();
    assertThat(first.getMetadata().getModRevision()).isGreaterThanOrEqualTo(createRevision);
    assertUpdatedAtNear(first.getUpdatedAt(), before);

    long lastMod = first.getMetadata().getModRevision();
    for (int i = 1; i <= 5; i++) {
      Strategy s = i % 2 == 0 ? Strategy.STRATEGY_REPLACE : Strategy.STRATEGY_MERGE;
      ApplyResponse r = api.apply(property(g, "p", "rev", tag("t1", str("v" + i))), s);
      assertThat(r.getCreated()).isFalse();
      Property p = getProperty(g, "p", "rev");
      assertThat(p.getMetadata().getCreateRevision())
          .as("create_revision kept across updates")
          .isEqualTo(createRevision);
      assertThat(p.getMetadata().getModRevision())
          .as("mod_revision strictly increases (apply #%d)", i)
          .isGreaterThan(lastMod);
      assertThat(p.getTagsList()).containsExactly(tag("t1", str("v" + i)));
      assertUpdatedAtNear(p.getUpdatedAt(), before);
      lastMod = p.getMetadata().getModRevision();
    }
  }

  private static void assertUpdatedAtNear(Timestamp ts, Instant before) {
    assertThat(ts.getSeconds()).as("updated_at set").isPositive();
    Instant at = Instant.ofEpochSecond(ts.getSeconds(), ts.getNanos());
    assertThat(at).isBetween(before.minus(Duration.ofMinutes(1)), Instant.now().plus(Duration.ofMinutes(1)));
  }

  @Test
  void nullValueAcceptedForEveryTypeThenReplaced() {
    String g = unique("apply-null");
    api.createGroup(g, 1);
    api.createSchema(
        g,
        "all",
        spec("s", TagType.TAG_TYPE_STRING),
        spec("i", TagType.TAG_TYPE_INT),
        spec("sa", TagType.TAG_TYPE_STRING_ARRAY),
        spec("ia", TagType.TAG_TYPE_INT_ARRAY),
        spec("b", TagType.TAG_TYPE_DATA_BINARY),
        spec("ts", TagType.TAG_TYPE_TIMESTAMP));

    List<Tag> nulls = new ArrayList<>();
    for (String k : List.of("s", "i", "sa", "ia", "b", "ts")) {
      nulls.add(tag(k, nullValue()));
    }
    ApplyResponse r1 = api.apply(property(g, "all", "x", nulls.toArray(Tag[]::new)));
    assertThat(r1.getCreated()).isTrue();
    assertThat(r1.getTagsNum()).isEqualTo(6);
    assertThat(getProperty(g, "all", "x").getTagsList()).containsExactlyElementsOf(nulls);

    List<Tag> values =
        List.of(
            tag("s", str("hello")),
            tag("i", int64(-42)),
            tag("sa", strArray("a", "b")),
            tag("ia", intArray(1, -2, 3)),
            tag("b", binary(new byte[] {0, 1, (byte) 0xff})),
            tag("ts", timestamp(1_700_000_000L, 123_456_789)));
    ApplyResponse r2 = api.apply(property(g, "all", "x", values.toArray(Tag[]::new)));
    assertThat(r2.getCreated()).isFalse();
    assertThat(r2.getTagsNum()).isEqualTo(6);
    assertThat(getProperty(g, "all", "x").getTagsList()).containsExactlyElementsOf(values);

    // And back to null for one tag (merge keeps the others).
    ApplyResponse r3 = api.apply(property(g, "all", "x", tag("i", nullValue())));
    assertThat(r3.getTagsNum()).isEqualTo(6);
    List<Tag> expected = new ArrayList<>();
    expected.add(tag("i", nullValue()));
    values.stream().filter(t -> !t.getKey().equals("i")).forEach(expected::add);
    assertThat(getProperty(g, "all", "x").getTagsList()).containsExactlyElementsOf(expected);
  }

  @Test
  void applyAfterDeleteIsCreatedAgain() {
    String g = applyGroup();
    api.apply(property(g, "p", "d", tag("t1", str("v1")), tag("t2", str("v2"))));
    long oldCreate = getProperty(g, "p", "d").getMetadata().getCreateRevision();
    assertThat(delete(g, "p", "d").getDeleted()).isTrue();

    ApplyResponse r = api.apply(property(g, "p", "d", tag("t3", str("v3"))));
    assertThat(r.getCreated()).isTrue();
    // No live previous version: nothing to merge with.
    assertThat(r.getTagsNum()).isEqualTo(1);
    Property p = getProperty(g, "p", "d");
    assertThat(p.getTagsList()).containsExactly(tag("t3", str("v3")));
    assertThat(p.getMetadata().getCreateRevision()).isGreaterThan(oldCreate);
  }

  @Test
  void tagValuesRoundTripExactly() {
    String g = unique("apply-rt");
    api.createGroup(g, 3);
    api.createSchema(
        g,
        "rt",
        spec("s", TagType.TAG_TYPE_STRING),
        spec("i", TagType.TAG_TYPE_INT),
        spec("sa", TagType.TAG_TYPE_STRING_ARRAY),
        spec("ia", TagType.TAG_TYPE_INT_ARRAY),
        spec("b", TagType.TAG_TYPE_DATA_BINARY),
        spec("ts", TagType.TAG_TYPE_TIMESTAMP));
    // Sent order differs from schema order; values include edge cases.
    List<Tag> sent =
        List.of(
            tag("ts", timestamp(-1L, 999_999_999)),
            tag("ia", intArray(Long.MIN_VALUE, 0, Long.MAX_VALUE)),
            tag("s", str("ünïcødé / with slash and \"quotes\"")),
            tag("b", binary(new byte[0])),
            tag("sa", strArray()),
            tag("i", int64(Long.MIN_VALUE)));
    api.apply(property(g, "rt", "id/with/slashes", sent.toArray(Tag[]::new)));
    Property p = getProperty(g, "rt", "id/with/slashes");
    assertThat(p.getId()).isEqualTo("id/with/slashes");
    assertThat(p.getTagsList()).containsExactlyElementsOf(sent);
  }

  @Test
  void largeTagValuesUnderTheSizeLimitRoundTrip() {
    // Well under the default 1 MiB property limit, but larger than a single index term may be.
    String g = unique("apply-large");
    api.createGroup(g, 2);
    api.createSchema(
        g,
        "big",
        spec("s", TagType.TAG_TYPE_STRING),
        spec("sa", TagType.TAG_TYPE_STRING_ARRAY),
        spec("b", TagType.TAG_TYPE_DATA_BINARY),
        spec("k", TagType.TAG_TYPE_STRING));
    String bigString = "x".repeat(40_000);
    byte[] bigBytes = new byte[200_000];
    for (int i = 0; i < bigBytes.length; i++) {
      bigBytes[i] = (byte) i;
    }
    List<Tag> sent =
        List.of(
            tag("s", str(bigString)),
            tag("sa", strArray("small", "y".repeat(50_000))),
            tag("b", binary(bigBytes)),
            tag("k", str("findme")));
    ApplyResponse r = api.apply(property(g, "big", "1", sent.toArray(Tag[]::new)));
    assertThat(r.getCreated()).isTrue();
    assertThat(r.getTagsNum()).isEqualTo(4);
    assertThat(getProperty(g, "big", "1").getTagsList()).containsExactlyElementsOf(sent);
    assertThat(
            ids(api.query(query("big", g).setCriteria(cond("k", BinaryOp.BINARY_OP_EQ, str("findme"))))))
        .containsExactly("1");
    // The server keeps serving this key afterwards.
    ApplyResponse r2 = api.apply(property(g, "big", "1", tag("k", str("again"))));
    assertThat(r2.getCreated()).isFalse();
    assertThat(r2.getTagsNum()).isEqualTo(4);
  }

  // =============================================================================================
  // Query

  /** Group "q" with schema "svc" and five properties p1..p5, built once. */
  private static final class QueryData {
    static final String GROUP = unique("query");
    static final String NAME = "svc";

    static {
      api.createGroup(GROUP, 3);
      api.createSchema(
          GROUP,
          NAME,
          spec("name", TagType.TAG_TYPE_STRING),
          spec("port", TagType.TAG_TYPE_INT),
          spec("labels", TagType.TAG_TYPE_STRING_ARRAY),
          spec("codes", TagType.TAG_TYPE_INT_ARRAY));
      put("p1", "alpha", 10, new String[] {"a", "b"}, 1, 2);
      put("p2", "beta", 20, new String[] {"b", "c"}, 2, 3);
      put("p3", "gamma", 30, new String[] {"c"}, 3);
      put("p4", "delta", 40, new String[] {"a"}, 4);
      put("p5", "epsilon", 50, new String[] {"d"}, 5);
    }

    private static void put(String id, String name, long port, String[] labels, long... codes) {
      ApplyResponse r =
          api.apply(
              property(
                  GROUP,
                  NAME,
                  id,
                  tag("name", str(name)),
                  tag("port", int64(port)),
                  tag("labels", strArray(labels)),
                  tag("codes", intArray(codes))));
      assertThat(r.getCreated()).isTrue();
    }

    static QueryRequest.Builder q() {
      return query(NAME, GROUP).setLimit(100);
    }

    static List<String> matching(Criteria c) {
      return ids(api.query(q().setCriteria(c)));
    }
  }

  @Test
  void queryByIdsAreOred() {
    assertThat(ids(api.query(QueryData.q().addIds("p1")))).containsExactly("p1");
    assertThat(ids(api.query(QueryData.q().addIds("p1").addIds("p3").addIds("nope"))))
        .containsExactlyInAnyOrder("p1", "p3");
    assertThat(api.query(QueryData.q().addIds("nope"))).isEmpty();
    // Duplicates in the request do not duplicate results.
    assertThat(ids(api.query(QueryData.q().addIds("p2").addIds("p2")))).containsExactly("p2");
    assertThat(ids(api.query(QueryData.q().addGroups(QueryData.GROUP).addIds("p2"))))
        .containsExactly("p2");
  }

  @Test
  void queryResultsCarryFullMetadata() {
    Property p = single(api.query(QueryData.q().addIds("p2")));
    assertThat(p.getMetadata().getGroup()).isEqualTo(QueryData.GROUP);
    assertThat(p.getMetadata().getName()).isEqualTo(QueryData.NAME);
    assertThat(p.getMetadata().getCreateRevision()).isPositive();
    assertThat(p.getMetadata().getModRevision()).isPositive();
    assertThat(p.getUpdatedAt().getSeconds()).isPositive();
    assertThat(p.getTagsList())
        .containsExactly(
            tag("name", str("beta")),
            tag("port", int64(20)),
            tag("labels", strArray("b", "c")),
            tag("codes", intArray(2, 3)));
  }

  @Test
  void queryAllWithoutFilter() {
    assertThat(ids(api.query(QueryData.q())))
        .containsExactlyInAnyOrder("p1", "p2", "p3", "p4", "p5");
  }

  @Test
  void queryByNameOverMultipleGroups() {
    String g1 = unique("multi-a");
    String g2 = unique("multi-b");
    for (String g : List.of(g1, g2)) {
      api.createGroup(g, 2);
      api.createSchema(g, "svc", spec("k", TagType.TAG_TYPE_STRING));
      api.createSchema(g, "other", spec("k", TagType.TAG_TYPE_STRING));
      api.apply(property(g, "svc", "x", tag("k", str(g + "-x"))));
      api.apply(property(g, "svc", "y", tag("k", str(g + "-y"))));
      api.apply(property(g, "other", "z", tag("k", str(g + "-z"))));
    }

    List<Property> ps = api.query(query("svc", g1, g2).setLimit(100));
    assertThat(ps)
        .extracting(p -> p.getMetadata().getGroup() + "/" + p.getMetadata().getName() + "/" + p.getId())
        .containsExactlyInAnyOrder(g1 + "/svc/x", g1 + "/svc/y", g2 + "/svc/x", g2 + "/svc/y");
    for (Property p : ps) {
      assertThat(p.getTagsList())
          .containsExactly(tag("k", str(p.getMetadata().getGroup() + "-" + p.getId())));
    }

    // Ids are matched within every requested group.
    assertThat(api.query(query("svc", g1, g2).addIds("x")))
        .extracting(p -> p.getMetadata().getGroup())
        .containsExactlyInAnyOrder(g1, g2);

    // Without a name, every property of the groups.
    assertThat(api.query(query("", g1).setLimit(100)))
        .extracting(p -> p.getMetadata().getName() + "/" + p.getId())
        .containsExactlyInAnyOrder("svc/x", "svc/y", "other/z");
  }

  @Test
  void queryConditionsOnInt() {
    assertThat(QueryData.matching(cond("port", BinaryOp.BINARY_OP_EQ, int64(30))))
        .containsExactlyInAnyOrder("p3");
    assertThat(QueryData.matching(cond("port", BinaryOp.BINARY_OP_NE, int64(30))))
        .containsExactlyInAnyOrder("p1", "p2", "p4", "p5");
    assertThat(QueryData.matching(cond("port", BinaryOp.BINARY_OP_LT, int64(30))))
        .containsExactlyInAnyOrder("p1", "p2");
    assertThat(QueryData.matching(cond("port", BinaryOp.BINARY_OP_LE, int64(30))))
        .containsExactlyInAnyOrder("p1", "p2", "p3");
    assertThat(QueryData.matching(cond("port", BinaryOp.BINARY_OP_GT, int64(30))))
        .containsExactlyInAnyOrder("p4", "p5");
    assertThat(QueryData.matching(cond("port", BinaryOp.BINARY_OP_GE, int64(30))))
        .containsExactlyInAnyOrder("p3", "p4", "p5");
    // Negative bound: sign handled.
    assertThat(QueryData.matching(cond("port", BinaryOp.BINARY_OP_GT, int64(-5))))
        .containsExactlyInAnyOrder("p1", "p2", "p3", "p4", "p5");
    assertThat(QueryData.matching(cond("port", BinaryOp.BINARY_OP_EQ, int64(31)))).isEmpty();
  }

  @Test
  void queryConditionsOnString() {
    // alpha < beta < delta < epsilon < gamma
    assertThat(QueryData.matching(cond("name", BinaryOp.BINARY_OP_EQ, str("beta"))))
        .containsExactlyInAnyOrder("p2");
    assertThat(QueryData.matching(cond("name", BinaryOp.BINARY_OP_NE, str("beta"))))
        .containsExactlyInAnyOrder("p1", "p3", "p4", "p5");
    assertThat(QueryData.matching(cond("name", BinaryOp.BINARY_OP_LT, str("delta"))))
        .containsExactlyInAnyOrder("p1", "p2");
    assertThat(QueryData.matching(cond("name", BinaryOp.BINARY_OP_LE, str("delta"))))
        .containsExactlyInAnyOrder("p1", "p2", "p4");
    assertThat(QueryData.matching(cond("name", BinaryOp.BINARY_OP_GT, str("delta"))))
        .containsExactlyInAnyOrder("p3", "p5");
    assertThat(QueryData.matching(cond("name", BinaryOp.BINARY_OP_GE, str("delta"))))
        .containsExactlyInAnyOrder("p3", "p4", "p5");
  }

  @Test
  void queryInAndNotIn() {
    assertThat(
            QueryData.matching(
                cond("name", BinaryOp.BINARY_OP_IN, strArray("alpha", "gamma", "unknown"))))
        .containsExactlyInAnyOrder("p1", "p3");
    assertThat(QueryData.matching(cond("name", BinaryOp.BINARY_OP_NOT_IN, strArray("alpha", "gamma"))))
        .containsExactlyInAnyOrder("p2", "p4", "p5");
    assertThat(QueryData.matching(cond("port", BinaryOp.BINARY_OP_IN, intArray(10, 40, 99))))
        .containsExactlyInAnyOrder("p1", "p4");
    assertThat(QueryData.matching(cond("port", BinaryOp.BINARY_OP_NOT_IN, intArray(10, 40))))
        .containsExactlyInAnyOrder("p2", "p3", "p5");
  }

  @Test
  void queryHavingAndNotHavingOnArrays() {
    // HAVING: the array contains all the given values.
    assertThat(QueryData.matching(cond("labels", BinaryOp.BINARY_OP_HAVING, strArray("a"))))
        .containsExactlyInAnyOrder("p1", "p4");
    assertThat(QueryData.matching(cond("labels", BinaryOp.BINARY_OP_HAVING, strArray("a", "b"))))
        .containsExactlyInAnyOrder("p1");
    assertThat(QueryData.matching(cond("labels", BinaryOp.BINARY_OP_NOT_HAVING, strArray("a"))))
        .containsExactlyInAnyOrder("p2", "p3", "p5");
    assertThat(QueryData.matching(cond("codes", BinaryOp.BINARY_OP_HAVING, intArray(3))))
        .containsExactlyInAnyOrder("p2", "p3");
    assertThat(QueryData.matching(cond("codes", BinaryOp.BINARY_OP_HAVING, intArray(2, 3))))
        .containsExactlyInAnyOrder("p2");
    assertThat(QueryData.matching(cond("codes", BinaryOp.BINARY_OP_NOT_HAVING, intArray(3))))
        .containsExactlyInAnyOrder("p1", "p4", "p5");
  }

  @Test
  void queryAndOrTrees() {
    assertThat(
            QueryData.matching(
                and(
                    cond("port", BinaryOp.BINARY_OP_GE, int64(20)),
                    cond("port", BinaryOp.BINARY_OP_LE, int64(40)))))
        .containsExactlyInAnyOrder("p2", "p3", "p4");
    assertThat(
            QueryData.matching(
                or(
                    cond("name", BinaryOp.BINARY_OP_EQ, str("alpha")),
                    cond("name", BinaryOp.BINARY_OP_EQ, str("epsilon")))))
        .containsExactlyInAnyOrder("p1", "p5");
    // (port < 30 OR port > 40) AND labels HAVING [a]
    assertThat(
            QueryData.matching(
                and(
                    or(
                        cond("port", BinaryOp.BINARY_OP_LT, int64(30)),
                        cond("port", BinaryOp.BINARY_OP_GT, int64(40))),
                    cond("labels", BinaryOp.BINARY_OP_HAVING, strArray("a")))))
        .containsExactlyInAnyOrder("p1");
    // (20 <= port <= 30) OR name = epsilon
    assertThat(
            QueryData.matching(
                or(
                    and(
                        cond("port", BinaryOp.BINARY_OP_GE, int64(20)),
                        cond("port", BinaryOp.BINARY_OP_LE, int64(30))),
                    cond("name", BinaryOp.BINARY_OP_EQ, str("epsilon")))))
        .containsExactlyInAnyOrder("p2", "p3", "p5");
    // Criteria combined with ids.
    assertThat(
            ids(
                api.query(
                    QueryData.q()
                        .addIds("p1")
                        .addIds("p2")
                        .addIds("p5")
                        .setCriteria(cond("port", BinaryOp.BINARY_OP_GT, int64(15))))))
        .containsExactlyInAnyOrder("p2", "p5");
  }

  @Test
  void logicalExpressionWithOnlyLeftMeansLeftAlone() {
    assertThat(
            QueryData.matching(
                logical(LogicalOp.LOGICAL_OP_AND, cond("port", BinaryOp.BINARY_OP_EQ, int64(20)), null)))
        .containsExactly("p2");
    assertThat(
            QueryData.matching(
                logical(LogicalOp.LOGICAL_OP_OR, cond("port", BinaryOp.BINARY_OP_EQ, int64(20)), null)))
        .containsExactly("p2");
    // The chained .and() shape of the 0.9 client: AND(c1, AND(c2, <missing>)).
    assertThat(
            QueryData.matching(
                and(
                    cond("port", BinaryOp.BINARY_OP_GT, int64(10)),
                    logical(
                        LogicalOp.LOGICAL_OP_AND,
                        cond("labels", BinaryOp.BINARY_OP_HAVING, strArray("c")),
                        null))))
        .containsExactlyInAnyOrder("p2", "p3");
  }

  @Test
  void tagProjectionKeepsListedTagsInStoredOrder() {
    Property p = single(api.query(QueryData.q().addIds("p4").addTagProjection("port").addTagProjection("name")));
    assertThat(p.getTagsList()).containsExactly(tag("name", str("delta")), tag("port", int64(40)));
    assertThat(p.getId()).isEqualTo("p4");
    assertThat(p.getMetadata().getModRevision()).isPositive();

    for (Property each : api.query(QueryData.q().addTagProjection("codes"))) {
      assertThat(tagKeys(each)).containsExactly("codes");
    }
  }

  @Test
  void limitTruncates() {
    List<Property> two = api.query(QueryData.q().setLimit(2));
    assertThat(two).hasSize(2);
    assertThat(ids(two)).allMatch(id -> List.of("p1", "p2", "p3", "p4", "p5").contains(id));
    assertThat(ids(two)).doesNotHaveDuplicates();
  }

  @Test
  void limitZeroMeans100() {
    String g = unique("limit");
    api.createGroup(g, 2);
    api.createSchema(g, "many", spec("n", TagType.TAG_TYPE_INT));
    for (int i = 0; i < 120; i++) {
      api.apply(property(g, "many", "id-" + i, tag("n", int64(i))));
    }
    List<Property> got = api.query(query("many", g).setLimit(0));
    assertThat(got).hasSize(100);
    assertThat(ids(got)).doesNotHaveDuplicates();
    assertThat(api.query(query("many", g).setLimit(1000))).hasSize(120);
    assertThat(api.query(query("many", g).setLimit(120))).hasSize(120);
  }

  private static QueryOrder order(String tag, Sort sort) {
    return QueryOrder.newBuilder().setTagName(tag).setSort(sort).build();
  }

  @Test
  void orderByIntTag() {
    assertThat(ids(api.query(QueryData.q().setOrderBy(order("port", Sort.SORT_ASC)))))
        .containsExactly("p1", "p2", "p3", "p4", "p5");
    assertThat(ids(api.query(QueryData.q().setOrderBy(order("port", Sort.SORT_DESC)))))
        .containsExactly("p5", "p4", "p3", "p2", "p1");
    assertThat(ids(api.query(QueryData.q().setOrderBy(order("port", Sort.SORT_DESC)).setLimit(2))))
        .containsExactly("p5", "p4");
    assertThat(
            ids(
                api.query(
                    QueryData.q()
                        .setCriteria(cond("port", BinaryOp.BINARY_OP_GE, int64(20)))
                        .setOrderBy(order("port", Sort.SORT_ASC))
                        .setLimit(2))))
        .containsExactly("p2", "p3");
  }

  @Test
  void orderByIntTagHandlesNegativeValues() {
    String g = unique("order-neg");
    api.createGroup(g, 3);
    api.createSchema(g, "n", spec("v", TagType.TAG_TYPE_INT));
    long[] values = {5, -1, 0, Long.MIN_VALUE, Long.MAX_VALUE, -100};
    for (long v : values) {
      api.apply(property(g, "n", "v" + v, tag("v", int64(v))));
    }
    assertThat(ids(api.query(query("n", g).setOrderBy(order("v", Sort.SORT_ASC)))))
        .containsExactly(
            "v" + Long.MIN_VALUE, "v-100", "v-1", "v0", "v5", "v" + Long.MAX_VALUE);
  }

  @Test
  void timestampTagsCompareAndSortByInstant() {
    String g = unique("ts");
    api.createGroup(g, 3);
    api.createSchema(g, "e", spec("at", TagType.TAG_TYPE_TIMESTAMP));
    // Includes instants before 1970 and far outside the int64-nanosecond range (1677..2262);
    // google.protobuf.Timestamp allows years 0001..9999.
    Object[][] data = {
      {"y0001", -62_135_596_800L, 0},
      {"y1600", -11_676_096_000L, 0},
      {"y1969", -1L, 500_000_000},
      {"y1970", 0L, 0},
      {"y2024a", 1_700_000_000L, 1},
      {"y2024b", 1_700_000_000L, 2},
      {"y3000", 32_503_680_000L, 0},
      {"y9999", 253_402_300_799L, 999_999_999},
    };
    for (Object[] d : data) {
      api.apply(property(g, "e", (String) d[0], tag("at", timestamp((Long) d[1], (Integer) d[2]))));
    }
    List<String> ascending =
        List.of("y0001", "y1600", "y1969", "y1970", "y2024a", "y2024b", "y3000", "y9999");
    assertThat(ids(api.query(query("e", g).setOrderBy(order("at", Sort.SORT_ASC)))))
        .containsExactlyElementsOf(ascending);
    assertThat(ids(api.query(query("e", g).setOrderBy(order("at", Sort.SORT_DESC)))))
        .containsExactly("y9999", "y3000", "y2024b", "y2024a", "y1970", "y1969", "y1600", "y0001");
    assertThat(
            ids(
                api.query(
                    query("e", g)
                        .setCriteria(
                            cond("at", BinaryOp.BINARY_OP_GT, timestamp(1_700_000_000L, 1))))))
        .containsExactlyInAnyOrder("y2024b", "y3000", "y9999");
    assertThat(
            ids(
                api.query(
                    query("e", g)
                        .setCriteria(cond("at", BinaryOp.BINARY_OP_LT, timestamp(0L, 0))))))
        .containsExactlyInAnyOrder("y0001", "y1600", "y1969");
    assertThat(
            ids(
                api.query(
                    query("e", g)
                        .setCriteria(
                            cond("at", BinaryOp.BINARY_OP_EQ, timestamp(32_503_680_000L, 0))))))
        .containsExactly("y3000");
    // Values round-trip exactly.
    assertThat(single(api.query(query("e", g).addIds("y9999"))).getTagsList())
        .containsExactly(tag("at", timestamp(253_402_300_799L, 999_999_999)));
  }

  @Test
  void orderByKeepsPropertiesWithoutTheTagTogetherAtOneEnd() {
    String g = unique("order-missing");
    api.createGroup(g, 2);
    api.createSchema(g, "m", spec("v", TagType.TAG_TYPE_INT), spec("k", TagType.TAG_TYPE_STRING));
    // Ids chosen so that a tie-break by key would interleave them with the extreme values.
    api.apply(property(g, "m", "a-null", tag("v", nullValue())));
    api.apply(property(g, "m", "b-absent", tag("k", str("x"))));
    api.apply(property(g, "m", "c-min", tag("v", int64(Long.MIN_VALUE))));
    api.apply(property(g, "m", "d-zero", tag("v", int64(0))));
    api.apply(property(g, "m", "e-max", tag("v", int64(Long.MAX_VALUE))));
    for (Sort sort : List.of(Sort.SORT_ASC, Sort.SORT_DESC)) {
      List<String> got = ids(api.query(query("m", g).setOrderBy(order("v", sort))));
      List<String> present =
          sort == Sort.SORT_ASC
              ? List.of("c-min", "d-zero", "e-max")
              : List.of("e-max", "d-zero", "c-min");
      assertThat(got).as("order %s", sort).hasSize(5);
      List<String> withoutMissing = got.stream().filter(present::contains).toList();
      assertThat(withoutMissing).as("order %s of those with the tag", sort).containsExactlyElementsOf(present);
      boolean missingFirst = got.subList(0, 2).containsAll(List.of("a-null", "b-absent"));
      boolean missingLast = got.subList(3, 5).containsAll(List.of("a-null", "b-absent"));
      assertThat(missingFirst || missingLast)
          .as("order %s: properties without a value are together at one end, got %s", sort, got)
          .isTrue();
    }
  }

  @Test
  void concurrentMergesOfOneKeyAreAtomic() throws Exception {
    String g = unique("concurrent");
    api.createGroup(g, 2);
    api.createSchema(
        g,
        "c",
        spec("t0", TagType.TAG_TYPE_INT),
        spec("t1", TagType.TAG_TYPE_INT),
        spec("t2", TagType.TAG_TYPE_INT),
        spec("t3", TagType.TAG_TYPE_INT));
    int threads = 4;
    int perThread = 25;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      List<Future<List<ApplyResponse>>> futures = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        String key = "t" + t;
        futures.add(
            pool.submit(
                () -> {
                  List<ApplyResponse> out = new ArrayList<>();
                  for (int i = 1; i <= perThread; i++) {
                    out.add(api.apply(property(g, "c", "k", tag(key, int64(i)))));
                  }
                  return out;
                }));
      }
      List<ApplyResponse> all = new ArrayList<>();
      for (var f : futures) {
        all.addAll(f.get(2, TimeUnit.MINUTES));
      }
      assertThat(all.stream().filter(ApplyResponse::getCreated)).as("exactly one apply created it").hasSize(1);
    } finally {
      pool.shutdownNow();
    }
    Property p = single(api.query(query("c", g)));
    // Every thread's last write survives: no merge lost another thread's tag.
    assertThat(p.getTagsList())
        .containsExactlyInAnyOrder(
            tag("t0", int64(perThread)),
            tag("t1", int64(perThread)),
            tag("t2", int64(perThread)),
            tag("t3", int64(perThread)));
  }

  @Test
  void orderByStringTag() {
    assertThat(ids(api.query(QueryData.q().setOrderBy(order("name", Sort.SORT_ASC)))))
        .containsExactly("p1", "p2", "p4", "p5", "p3");
    assertThat(ids(api.query(QueryData.q().setOrderBy(order("name", Sort.SORT_DESC)))))
        .containsExactly("p3", "p5", "p4", "p2", "p1");
    assertThat(ids(api.query(QueryData.q().setOrderBy(order("name", Sort.SORT_ASC)).setLimit(3))))
        .containsExactly("p1", "p2", "p4");
  }

  @Test
  void orderByAcrossGroupsAndAfterUpdates() {
    String g1 = unique("order-a");
    String g2 = unique("order-b");
    for (String g : List.of(g1, g2)) {
      api.createGroup(g, 2);
      api.createSchema(g, "o", spec("rank", TagType.TAG_TYPE_INT));
    }
    api.apply(property(g1, "o", "a", tag("rank", int64(3))));
    api.apply(property(g2, "o", "b", tag("rank", int64(1))));
    api.apply(property(g1, "o", "c", tag("rank", int64(2))));
    api.apply(property(g2, "o", "d", tag("rank", int64(4))));
    // An update moves "b" to the end; its old value must not be seen.
    api.apply(property(g2, "o", "b", tag("rank", int64(9))));
    assertThat(ids(api.query(query("o", g1, g2).setOrderBy(order("rank", Sort.SORT_ASC)))))
        .containsExactly("c", "a", "d", "b");
    assertThat(ids(api.query(query("o", g1, g2).setOrderBy(order("rank", Sort.SORT_DESC)))))
        .containsExactly("b", "d", "a", "c");
  }

  @Test
  void deletedPropertiesNeverReturned() {
    String g = unique("q-deleted");
    api.createGroup(g, 2);
    api.createSchema(g, "s", spec("n", TagType.TAG_TYPE_INT), spec("k", TagType.TAG_TYPE_STRING));
    for (int i = 0; i < 6; i++) {
      api.apply(property(g, "s", "id" + i, tag("n", int64(i)), tag("k", str("x"))));
    }
    assertThat(delete(g, "s", "id2").getDeleted()).isTrue();
    assertThat(delete(g, "s", "id4").getDeleted()).isTrue();

    assertThat(ids(api.query(query("s", g)))).containsExactlyInAnyOrder("id0", "id1", "id3", "id5");
    assertThat(api.query(query("s", g).addIds("id2"))).isEmpty();
    assertThat(ids(api.query(query("s", g).setCriteria(cond("k", BinaryOp.BINARY_OP_EQ, str("x"))))))
        .containsExactlyInAnyOrder("id0", "id1", "id3", "id5");
    assertThat(ids(api.query(query("s", g).setOrderBy(order("n", Sort.SORT_DESC)))))
        .containsExactly("id5", "id3", "id1", "id0");
    assertThat(ids(api.query(query("s", g).setOrderBy(order("n", Sort.SORT_DESC)).setLimit(2))))
        .containsExactly("id5", "id3");
  }

  @Test
  void queryAfterUpdateReturnsOnlyNewestVersion() {
    String g = unique("q-newest");
    api.createGroup(g, 2);
    api.createSchema(g, "s", spec("k", TagType.TAG_TYPE_STRING));
    for (int i = 0; i < 5; i++) {
      api.apply(property(g, "s", "one", tag("k", str("v" + i))));
    }
    Property p = single(api.query(query("s", g)));
    assertThat(p.getTagsList()).containsExactly(tag("k", str("v4")));
    assertThat(api.query(query("s", g).setCriteria(cond("k", BinaryOp.BINARY_OP_EQ, str("v1")))))
        .isEmpty();
  }

  // =============================================================================================
  // Delete

  private static DeleteResponse delete(String group, String name, String id) {
    return api.properties.delete(
        DeleteRequest.newBuilder().setGroup(group).setName(name).setId(id).build());
  }

  @Test
  void deleteByIdKeepsOtherIds() {
    String g = applyGroup();
    for (String id : List.of("a", "b", "c")) {
      api.apply(property(g, "p", id, tag("t1", str(id))));
    }
    DeleteResponse r = delete(g, "p", "b");
    assertThat(r.getDeleted()).isTrue();
    assertThat(ids(api.query(query("p", g)))).containsExactlyInAnyOrder("a", "c");
    assertThat(api.query(query("p", g).addIds("b"))).isEmpty();
  }

  @Test
  void deleteByNameWithEmptyIdDeletesAll() {
    String g = unique("del-all");
    api.createGroup(g, 2);
    api.createSchema(g, "s", spec("n", TagType.TAG_TYPE_INT));
    api.createSchema(g, "keep", spec("n", TagType.TAG_TYPE_INT));
    // More than 100 (upstream's per-shard cap for delete-all) and more than one page of 1000:
    // delete-all must page until exhausted.
    for (int i = 0; i < 1150; i++) {
      api.apply(property(g, "s", "id" + i, tag("n", int64(i))));
    }
    api.apply(property(g, "keep", "k", tag("n", int64(1))));

    DeleteResponse r = delete(g, "s", "");
    assertThat(r.getDeleted()).isTrue();
    assertThat(api.query(query("s", g).setLimit(5000))).isEmpty();
    assertThat(ids(api.query(query("keep", g)))).containsExactly("k");
  }

  @Test
  void deleteNothingMatchedIsFalse() {
    String g = applyGroup();
    assertThat(delete(g, "p", "missing").getDeleted()).isFalse();
    assertThat(delete(g, "p", "").getDeleted()).isFalse();

    api.apply(property(g, "p", "once", tag("t1", str("v"))));
    assertThat(delete(g, "p", "once").getDeleted()).isTrue();
    // Already deleted: nothing live matched, and the call must not fail.
    assertThat(delete(g, "p", "once").getDeleted()).isFalse();
    assertThat(delete(g, "p", "").getDeleted()).isFalse();
  }

  @Test
  void queryRightAfterDeleteDoesNotReturnIt() {
    String g = applyGroup();
    for (int i = 0; i < 20; i++) {
      String id = "x" + i;
      api.apply(property(g, "p", id, tag("t1", str("v"))));
      assertThat(delete(g, "p", id).getDeleted()).isTrue();
      assertThat(api.query(query("p", g).addIds(id))).as("query right after delete of %s", id).isEmpty();
    }
    assertThat(api.query(query("p", g))).isEmpty();
  }

  @Test
  void deleteInMissingGroupIsNotFound() {
    String g = unique("del-nogroup");
    assertStatus(() -> delete(g, "p", "x"), Status.Code.NOT_FOUND, g);
  }

  // =============================================================================================
  // Persistence

  @Test
  void everythingSurvivesRestart(@TempDir Path dir) throws Exception {
    String g = "persist";
    Group sentGroup;
    dev.arbor.api.banyandb.database.v1.Property sentSchema;
    Group groupBefore;
    List<Property> before;
    try (ApiTestSupport.Fixture first = ApiTestSupport.Fixture.start(dir)) {
      sentGroup = first.createGroup(g, 2);
      sentSchema =
          first.createSchema(
              g, "s", spec("k", TagType.TAG_TYPE_STRING), spec("n", TagType.TAG_TYPE_INT));
      for (int i = 0; i < 10; i++) {
        first.apply(property(g, "s", "id" + i, tag("k", str("v" + i)), tag("n", int64(i))));
      }
      first.apply(property(g, "s", "id0", tag("k", str("updated"))));
      assertThat(
              first.properties
                  .delete(DeleteRequest.newBuilder().setGroup(g).setName("s").setId("id9").build())
                  .getDeleted())
          .isTrue();
      groupBefore = getGroup(first, g);
      before = first.query(query("s", g));
    }

    try (ApiTestSupport.Fixture second = ApiTestSupport.Fixture.start(dir)) {
      Group groupAfter = getGroup(second, g);
      assertThat(groupAfter).isEqualTo(groupBefore);
      assertThat(withoutRevisions(groupAfter)).isEqualTo(sentGroup);
      assertThat(
              second.groups.list(GroupRegistryServiceListRequest.getDefaultInstance())
                  .getGroupList())
          .containsExactly(groupBefore);
      assertThat(withoutServerFields(getSchema(second, g, "s"))).isEqualTo(sentSchema);

      List<Property> after = second.query(query("s", g));
      assertThat(after).hasSize(9).containsExactlyInAnyOrderElementsOf(before);
      assertThat(ids(after)).doesNotContain("id9");
      Property id0 = single(second.query(query("s", g).addIds("id0")));
      assertThat(id0.getTagsList()).containsExactly(tag("k", str("updated")), tag("n", int64(0)));

      // Writes continue from where they were: no created flag, revisions keep increasing.
      Property prev = id0;
      ApplyResponse r = second.apply(property(g, "s", "id0", tag("n", int64(100))));
      assertThat(r.getCreated()).isFalse();
      Property next = single(second.query(query("s", g).addIds("id0")));
      assertThat(next.getMetadata().getCreateRevision())
          .isEqualTo(prev.getMetadata().getCreateRevision());
      assertThat(next.getMetadata().getModRevision())
          .isGreaterThan(prev.getMetadata().getModRevision());
      // The deleted one stays deleted, and re-applying it creates it again.
      assertThat(second.apply(property(g, "s", "id9", tag("n", int64(9)))).getCreated()).isTrue();
    }
  }

  @Test
  void acknowledgedWritesSurviveACrash(@TempDir Path dir) throws Exception {
    String g = "crash";
    Path image;
    List<Property> acknowledged;
    Group group;
    try (ApiTestSupport.Fixture live =
        ApiTestSupport.Fixture.start(
            ApiTestSupport.config(dir.resolve("live")).withCheckpointInterval(Duration.ofHours(1)))) {
      live.createGroup(g, 2);
      live.createSchema(g, "s", spec("k", TagType.TAG_TYPE_STRING), spec("n", TagType.TAG_TYPE_INT));
      for (int i = 0; i < 20; i++) {
        live.apply(property(g, "s", "id" + i, tag("k", str("v" + i)), tag("n", int64(i))));
      }
      live.apply(property(g, "s", "id3", tag("k", str("updated"))));
      live.properties.delete(DeleteRequest.newBuilder().setGroup(g).setName("s").setId("id7").build());
      acknowledged = live.query(query("s", g));
      group = getGroup(live, g);
      // A group dropped and re-created must come back empty, not with its old contents.
      live.createGroup("dropped", 1);
      live.createSchema("dropped", "s", spec("k", TagType.TAG_TYPE_STRING));
      live.apply(property("dropped", "s", "old", tag("k", str("old"))));
      live.groups.delete(GroupRegistryServiceDeleteRequest.newBuilder().setGroup("dropped").build());
      live.createGroup("dropped", 1);
      live.createSchema("dropped", "s", spec("k", TagType.TAG_TYPE_STRING));
      live.apply(property("dropped", "s", "new", tag("k", str("new"))));
      image = live.crashImage(dir.resolve("image"));
    }
    try (ApiTestSupport.Fixture recovered = ApiTestSupport.Fixture.start(image)) {
      assertThat(getGroup(recovered, g)).isEqualTo(group);
      assertThat(recovered.query(query("s", g))).hasSize(19).containsExactlyInAnyOrderElementsOf(acknowledged);
      assertThat(recovered.query(query("s", g).addIds("id7"))).isEmpty();
      assertThat(ids(recovered.query(query("s", "dropped")))).containsExactly("new");
      // Versions keep increasing after recovery.
      long maxBefore =
          acknowledged.stream().mapToLong(p -> p.getMetadata().getModRevision()).max().orElseThrow();
      recovered.apply(property(g, "s", "id3", tag("n", int64(33))));
      Property id3 = single(recovered.query(query("s", g).addIds("id3")));
      assertThat(id3.getMetadata().getModRevision()).isGreaterThan(maxBefore);
      assertThat(id3.getTagsList()).containsExactly(tag("n", int64(33)), tag("k", str("updated")));
    }
  }

  @Test
  void aFailedApplyDoesNotBreakRecovery(@TempDir Path dir) throws Exception {
    String g = "large";
    int limit = 64 << 10;
    // Each half fits the limit; merged onto the stored property they do not. Only the write path
    // can tell (it merges under the key's lock, after reading the stored version), so the
    // request passes validation and fails between the read and the WAL append.
    Property half = property(g, "s", "big", tag("a", str("x".repeat(40_000))));
    Property otherHalf = property(g, "s", "big", tag("b", str("y".repeat(40_000))));
    Path image;
    Path liveDir = dir.resolve("live");
    try (ApiTestSupport.Fixture live =
        ApiTestSupport.Fixture.start(
            ApiTestSupport.config(liveDir)
                .withCheckpointInterval(Duration.ofHours(1))
                .withLimits(new RequestLimits(limit, 256, 1000, 10_000)))) {
      live.createGroup(g, 1);
      live.createSchema(g, "s", spec("a", TagType.TAG_TYPE_STRING), spec("b", TagType.TAG_TYPE_STRING));
      live.apply(property(g, "s", "ok", tag("a", str("small"))));
      assertThat(live.apply(half).getCreated()).isTrue();
      assertStatus(() -> live.apply(otherHalf), Status.Code.INVALID_ARGUMENT, "over the limit of " + limit);
      assertThat(single(live.query(query("s", g).addIds("big"))).getTagsList())
          .as("the failed merge left the stored property alone")
          .isEqualTo(half.getTagsList());
      image = live.crashImage(dir.resolve("image"));
    }
    // After a crash (image) and after a clean shutdown: both must start and serve, without the
    // failed write.
    for (Path d : List.of(image, liveDir)) {
      try (ApiTestSupport.Fixture again = ApiTestSupport.Fixture.start(d)) {
        assertThat(single(again.query(query("s", g).addIds("ok"))).getTagsList())
            .as("restart from %s", d.getFileName())
            .containsExactly(tag("a", str("small")));
        assertThat(single(again.query(query("s", g).addIds("big"))).getTagsList())
            .as("a write answered with an error is absent after restart from %s", d.getFileName())
            .isEqualTo(half.getTagsList());
        assertThat(again.apply(property(g, "s", "after-" + d.getFileName(), tag("a", str("v")))).getCreated())
            .isTrue();
      }
    }
  }

  // =============================================================================================
  // API version

  @Test
  void apiVersionIs09() {
    GetAPIVersionResponse r = api.common.getAPIVersion(GetAPIVersionRequest.getDefaultInstance());
    assertThat(r.getVersion().getVersion()).isEqualTo("0.9");
    assertThat(r.getVersion().getRevision()).isNotBlank();
  }
}
