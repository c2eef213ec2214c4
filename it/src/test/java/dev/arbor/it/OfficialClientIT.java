package dev.arbor.it;

import static dev.arbor.it.Props.binary;
import static dev.arbor.it.Props.byId;
import static dev.arbor.it.Props.byIdMap;
import static dev.arbor.it.Props.ids;
import static dev.arbor.it.Props.int64;
import static dev.arbor.it.Props.intArray;
import static dev.arbor.it.Props.nullTag;
import static dev.arbor.it.Props.property;
import static dev.arbor.it.Props.propertyGroup;
import static dev.arbor.it.Props.schema;
import static dev.arbor.it.Props.str;
import static dev.arbor.it.Props.strArray;
import static dev.arbor.it.Props.stripRevisions;
import static dev.arbor.it.Props.stripServerFields;
import static dev.arbor.it.Props.tagKeys;
import static dev.arbor.it.Props.tagValue;
import static dev.arbor.it.Props.timestamp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.google.protobuf.util.JsonFormat;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.skywalking.banyandb.common.v1.BanyandbCommon;
import org.apache.skywalking.banyandb.database.v1.BanyandbDatabase;
import org.apache.skywalking.banyandb.database.v1.BanyandbDatabase.TagType;
import org.apache.skywalking.banyandb.model.v1.BanyandbModel;
import org.apache.skywalking.banyandb.property.v1.BanyandbProperty;
import org.apache.skywalking.banyandb.property.v1.BanyandbProperty.ApplyRequest.Strategy;
import org.apache.skywalking.banyandb.v1.client.And;
import org.apache.skywalking.banyandb.v1.client.BanyanDBClient;
import org.apache.skywalking.banyandb.v1.client.Or;
import org.apache.skywalking.banyandb.v1.client.PairQueryCondition.LongQueryCondition;
import org.apache.skywalking.banyandb.v1.client.PairQueryCondition.StringQueryCondition;
import org.apache.skywalking.banyandb.v1.client.PropertyQuery;
import org.apache.skywalking.banyandb.v1.client.grpc.exception.BanyanDBException;
import org.apache.skywalking.banyandb.v1.client.metadata.ResourceExist;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The property workflow through the official client {@code banyandb-java-client:0.9.0}, against
 * a real standalone server (child process). Every step asserts values, not just "no exception".
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(120)
class OfficialClientIT {
  /** Group + schemas shared by the apply / query / delete tests (created in setUp). */
  private static final String G = "it_props";

  private ArborProcess server;
  private BanyanDBClient client;

  @BeforeAll
  void setUp() throws Exception {
    server = ArborProcess.start("official-client", ArborProcess.newDataDir("official-client"));
    client = new BanyanDBClient(server.grpcTarget());
    client.connect();
    // A fresh server lists no groups: internal groups, if any, never appear in List.
    assertThat(client.findGroups()).as("groups of a fresh server").isEmpty();

    client.define(propertyGroup(G, 2));
    client.define(
        schema(
            G,
            "ui_template",
            "name", TagType.TAG_TYPE_STRING,
            "service", TagType.TAG_TYPE_STRING,
            "count", TagType.TAG_TYPE_INT,
            "labels", TagType.TAG_TYPE_STRING_ARRAY,
            "nums", TagType.TAG_TYPE_INT_ARRAY,
            "blob", TagType.TAG_TYPE_DATA_BINARY,
            "ts", TagType.TAG_TYPE_TIMESTAMP));
    client.define(
        schema(
            G,
            "svc",
            "service", TagType.TAG_TYPE_STRING,
            "layer", TagType.TAG_TYPE_STRING,
            "count", TagType.TAG_TYPE_INT));
    client.define(schema(G, "del", "name", TagType.TAG_TYPE_STRING));
  }

  @AfterAll
  void tearDown() throws Exception {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      server.stop(); // the exit code is ServerLifecycleIT's business
    }
  }

  // -------------------------------------------------------------------------------------------

  @Test
  @Order(1)
  void apiVersion() throws Exception {
    BanyandbCommon.APIVersion v = client.getAPIVersion();
    assertThat(v.getVersion()).isEqualTo("0.9");
    assertThat(v.getRevision()).as("revision").isNotBlank();
  }

  @Test
  @Order(2)
  void groupLifecycle() throws Exception {
    Set<String> before = groupNames();
    assertThat(before).containsExactly(G);

    BanyandbCommon.Group a = propertyGroup("it_grp_a", 2);
    BanyandbCommon.Group definedA = client.define(a);
    assertThat(stripRevisions(definedA)).as("group returned by define").isEqualTo(a);
    assertThat(definedA.getMetadata().getCreateRevision()).as("create_revision").isPositive();
    assertThat(definedA.getMetadata().getModRevision()).as("mod_revision").isPositive();
    assertThat(definedA.hasUpdatedAt()).as("updated_at must not be invented").isFalse();

    assertStatus(() -> client.define(a), Status.Code.ALREADY_EXISTS);

    assertThat(client.findGroup("it_grp_a")).isEqualTo(definedA);
    assertThat(client.findGroup("it_grp_missing")).as("find of a missing group").isNull();

    BanyandbCommon.Group b = propertyGroup("it_grp_b", 1);
    BanyandbCommon.Group definedB = client.define(b);
    assertThat(stripRevisions(definedB)).isEqualTo(b);

    List<BanyandbCommon.Group> listed = client.findGroups();
    assertThat(listed.stream().map(g -> g.getMetadata().getName()))
        .containsExactlyInAnyOrder(G, "it_grp_a", "it_grp_b");
    assertThat(listed.stream().filter(g -> g.getMetadata().getName().equals("it_grp_a")))
        .singleElement()
        .isEqualTo(definedA);
    assertThat(listed.stream().filter(g -> g.getMetadata().getName().equals("it_grp_b")))
        .singleElement()
        .isEqualTo(definedB);

    // Update keeps create_revision and stores the new options.
    BanyandbCommon.Group a2 =
        a.toBuilder().setResourceOpts(a.getResourceOpts().toBuilder().setReplicas(1)).build();
    client.update(a2);
    BanyandbCommon.Group foundA2 = client.findGroup("it_grp_a");
    assertThat(stripRevisions(foundA2)).isEqualTo(a2);
    assertThat(foundA2.getMetadata().getCreateRevision())
        .as("create_revision kept by update")
        .isEqualTo(definedA.getMetadata().getCreateRevision());
    assertThat(foundA2.getMetadata().getModRevision())
        .as("mod_revision after update")
        .isGreaterThanOrEqualTo(definedA.getMetadata().getModRevision());

    assertThat(client.deleteGroup("it_grp_b")).isTrue();
    assertThat(client.findGroup("it_grp_b")).isNull();
    assertThat(groupNames()).containsExactlyInAnyOrder(G, "it_grp_a");

    assertThat(client.deleteGroup("it_grp_a")).isTrue();
    assertThat(client.findGroup("it_grp_a")).isNull();
    assertThat(groupNames()).containsExactly(G);
  }

  @Test
  @Order(3)
  void groupDeleteDropsItsContents() throws Exception {
    String g = "it_grp_drop";
    client.define(propertyGroup(g, 2));
    client.define(schema(g, "s", "name", TagType.TAG_TYPE_STRING));
    assertThat(client.apply(property(g, "s", "x", str("name", "before-drop"))).getCreated())
        .isTrue();

    assertThat(client.deleteGroup(g)).isTrue();
    assertThat(client.findGroup(g)).isNull();

    // Drop and re-create: nothing of the old group may come back.
    client.define(propertyGroup(g, 2));
    assertThatThrownBy(() -> client.findPropertyDefinition(g, "s"))
        .isInstanceOfSatisfying(
            BanyanDBException.class, e -> assertThat(e.getStatus()).isEqualTo(Status.Code.NOT_FOUND));
    client.define(schema(g, "s", "name", TagType.TAG_TYPE_STRING));
    assertThat(byId(client, g, "s", "x")).as("property of the dropped group").isNull();
    BanyandbProperty.ApplyResponse r = client.apply(property(g, "s", "x", str("name", "after")));
    assertThat(r.getCreated()).as("created after drop/re-create").isTrue();
    assertThat(r.getTagsNum()).isEqualTo(1);
    assertThat(client.deleteGroup(g)).isTrue();
  }

  @Test
  @Order(4)
  void schemaLifecycle() throws Exception {
    String g = "it_schema_grp";
    client.define(propertyGroup(g, 1));

    ResourceExist none = client.existProperty(g, "ui_template");
    assertThat(none.hasGroup()).isTrue();
    assertThat(none.hasResource()).isFalse();
    ResourceExist noGroup = client.existProperty("it_no_such_group", "ui_template");
    assertThat(noGroup.hasGroup()).isFalse();
    assertThat(noGroup.hasResource()).isFalse();

    BanyandbDatabase.Property s =
        schema(g, "ui_template", "type", TagType.TAG_TYPE_STRING, "service", TagType.TAG_TYPE_STRING);
    client.define(s);
    BanyandbDatabase.Property found = client.findPropertyDefinition(g, "ui_template");
    assertThat(stripServerFields(found)).isEqualTo(s);
    assertThat(found.getMetadata().getModRevision()).as("schema mod_revision").isPositive();
    long createRev = found.getMetadata().getCreateRevision();

    assertStatus(() -> client.define(s), Status.Code.ALREADY_EXISTS);

    ResourceExist both = client.existProperty(g, "ui_template");
    assertThat(both.hasGroup()).isTrue();
    assertThat(both.hasResource()).isTrue();

    BanyandbDatabase.Property other = schema(g, "other", "v", TagType.TAG_TYPE_INT);
    client.define(other);
    List<BanyandbDatabase.Property> listed = client.findPropertiesDefinition(g);
    assertThat(listed.stream().map(Props::stripServerFields))
        .containsExactlyInAnyOrder(s, other);

    // Update: a new tag is stored, create_revision is kept.
    BanyandbDatabase.Property s2 =
        s.toBuilder()
            .addTags(
                BanyandbDatabase.TagSpec.newBuilder().setName("extra").setType(TagType.TAG_TYPE_INT))
            .build();
    client.update(s2);
    BanyandbDatabase.Property found2 = client.findPropertyDefinition(g, "ui_template");
    assertThat(stripServerFields(found2)).isEqualTo(s2);
    assertThat(found2.getMetadata().getCreateRevision()).isEqualTo(createRev);

    // A schema needs an existing group.
    assertThatThrownBy(
            () -> client.define(schema("it_no_such_group", "x", "v", TagType.TAG_TYPE_INT)))
        .isInstanceOf(BanyanDBException.class);

    assertThat(client.deletePropertyDefinition(g, "other")).isTrue();
    assertStatus(() -> client.findPropertyDefinition(g, "other"), Status.Code.NOT_FOUND);
    ResourceExist gone = client.existProperty(g, "other");
    assertThat(gone.hasGroup()).isTrue();
    assertThat(gone.hasResource()).isFalse();
    assertThat(client.findPropertiesDefinition(g).stream().map(Props::stripServerFields))
        .containsExactly(s2);

    assertThat(client.deleteGroup(g)).isTrue();
  }

  @Test
  @Order(5)
  void applyMergeAndReplace() throws Exception {
    String n = "ui_template";
    long t0 = System.currentTimeMillis();

    // 1. create
    BanyandbProperty.Property p1 =
        property(G, n, "p1", str("name", "hello"), str("service", "svc-a"), int64("count", 1));
    BanyandbProperty.ApplyResponse r1 = client.apply(p1);
    assertThat(r1.getCreated()).as("created on first apply").isTrue();
    assertThat(r1.getTagsNum()).isEqualTo(3);
    BanyandbProperty.Property got1 = byId(client, G, n, "p1");
    assertThat(got1).isNotNull();
    assertThat(got1.getId()).isEqualTo("p1");
    assertThat(got1.getMetadata().getGroup()).isEqualTo(G);
    assertThat(got1.getMetadata().getName()).isEqualTo(n);
    assertThat(got1.getTagsList()).containsExactlyElementsOf(p1.getTagsList());
    long createRev = got1.getMetadata().getCreateRevision();
    assertThat(createRev).as("create_revision").isPositive();
    assertThat(got1.getMetadata().getModRevision()).isGreaterThanOrEqualTo(createRev);
    assertThat(got1.hasUpdatedAt()).as("updated_at set").isTrue();
    long updatedMs =
        got1.getUpdatedAt().getSeconds() * 1000 + got1.getUpdatedAt().getNanos() / 1_000_000;
    assertThat(updatedMs).as("updated_at close to now").isCloseTo(t0, within(5 * 60_000L));
    // The messages print (guards the protobuf 4.x pin: 3.25 fails here with VerifyError).
    assertThat(got1.toString()).contains("p1");
    assertThat(JsonFormat.printer().print(got1)).contains("\"p1\"");

    // 2. merge (apply(p) sends STRATEGY_MERGE): sent tags first, then old ones not re-sent.
    BanyandbProperty.ApplyResponse r2 =
        client.apply(property(G, n, "p1", str("service", "svc-b"), strArray("labels", "x", "y")));
    assertThat(r2.getCreated()).as("created on update").isFalse();
    assertThat(r2.getTagsNum()).isEqualTo(4);
    BanyandbProperty.Property got2 = byId(client, G, n, "p1");
    assertThat(got2.getTagsList())
        .containsExactly(
            str("service", "svc-b"), strArray("labels", "x", "y"), str("name", "hello"), int64("count", 1));
    assertThat(got2.getMetadata().getCreateRevision()).as("create_revision kept").isEqualTo(createRev);
    assertThat(got2.getMetadata().getModRevision())
        .as("mod_revision grows")
        .isGreaterThan(got1.getMetadata().getModRevision());

    // 3. explicit MERGE and UNSPECIFIED (= MERGE)
    BanyandbProperty.ApplyResponse r3 =
        client.apply(property(G, n, "p1", int64("count", 2)), Strategy.STRATEGY_MERGE);
    assertThat(r3.getCreated()).isFalse();
    assertThat(r3.getTagsNum()).isEqualTo(4);
    assertThat(byId(client, G, n, "p1").getTagsList())
        .containsExactly(
            int64("count", 2), str("service", "svc-b"), strArray("labels", "x", "y"), str("name", "hello"));
    BanyandbProperty.ApplyResponse r4 =
        client.apply(property(G, n, "p1", intArray("nums", 3, -1, 7)), Strategy.STRATEGY_UNSPECIFIED);
    assertThat(r4.getCreated()).isFalse();
    assertThat(r4.getTagsNum()).isEqualTo(5);
    BanyandbProperty.Property got4 = byId(client, G, n, "p1");
    assertThat(got4.getTagsList())
        .containsExactly(
            intArray("nums", 3, -1, 7),
            int64("count", 2),
            str("service", "svc-b"),
            strArray("labels", "x", "y"),
            str("name", "hello"));

    // 4. replace: exactly the sent tags
    byte[] bytes = "\u0000binary\u00ff".getBytes(StandardCharsets.ISO_8859_1);
    BanyandbProperty.Property p1r =
        property(G, n, "p1", str("name", "replaced"), binary("blob", bytes), timestamp("ts", 1_700_000_000L, 123_456_789));
    BanyandbProperty.ApplyResponse r5 = client.apply(p1r, Strategy.STRATEGY_REPLACE);
    assertThat(r5.getCreated()).isFalse();
    assertThat(r5.getTagsNum()).isEqualTo(3);
    BanyandbProperty.Property got5 = byId(client, G, n, "p1");
    assertThat(got5.getTagsList()).containsExactlyElementsOf(p1r.getTagsList());
    assertThat(got5.getMetadata().getCreateRevision()).isEqualTo(createRev);
    assertThat(got5.getMetadata().getModRevision()).isGreaterThan(got4.getMetadata().getModRevision());

    // 5. a merge after replace only sees the replaced tags
    BanyandbProperty.ApplyResponse r6 = client.apply(property(G, n, "p1", str("service", "svc-c")));
    assertThat(r6.getTagsNum()).isEqualTo(4);
    assertThat(byId(client, G, n, "p1").getTagsList())
        .containsExactly(
            str("service", "svc-c"), str("name", "replaced"), binary("blob", bytes), timestamp("ts", 1_700_000_000L, 123_456_789));

    // 6. null tag value accepted (for any type) and round-trips
    BanyandbProperty.ApplyResponse r7 =
        client.apply(property(G, n, "p2", str("name", "n2"), nullTag("service"), nullTag("count")));
    assertThat(r7.getCreated()).isTrue();
    assertThat(r7.getTagsNum()).isEqualTo(3);
    BanyandbProperty.Property got7 = byId(client, G, n, "p2");
    assertThat(tagKeys(got7)).containsExactly("name", "service", "count");
    assertThat(tagValue(got7, "name")).isEqualTo(str("name", "n2").getValue());
    assertThat(tagValue(got7, "service").getValueCase())
        .isEqualTo(BanyandbModel.TagValue.ValueCase.NULL);
    assertThat(tagValue(got7, "count").getValueCase())
        .isEqualTo(BanyandbModel.TagValue.ValueCase.NULL);
    // p1 untouched by p2
    assertThat(byId(client, G, n, "p1").getTagsList()).hasSize(4);
  }

  @Test
  @Order(6)
  void queryByIdCriteriaProjectionAndLimit() throws Exception {
    String n = "svc";
    String[][] rows = {
      {"s1", "a", "GENERAL", "1"},
      {"s2", "b", "GENERAL", "2"},
      {"s3", "c", "MESH", "3"},
      {"s4", "d", "MESH", "4"},
      {"s5", "e", "K8S", "5"},
    };
    for (String[] r : rows) {
      BanyandbProperty.ApplyResponse resp =
          client.apply(
              property(G, n, r[0], str("service", r[1]), str("layer", r[2]), int64("count", Long.parseLong(r[3]))));
      assertThat(resp.getCreated()).isTrue();
      assertThat(resp.getTagsNum()).isEqualTo(3);
    }
    // same ids under another name of the same group must not leak into "svc" queries
    client.apply(property(G, "del", "s1", str("name", "other-schema")));

    // by id: full content
    BanyandbProperty.Property s3 = byId(client, G, n, "s3");
    assertThat(s3.getTagsList())
        .containsExactly(str("service", "c"), str("layer", "MESH"), int64("count", 3));
    assertThat(s3.getMetadata().getGroup()).isEqualTo(G);
    assertThat(s3.getMetadata().getName()).isEqualTo(n);
    assertThat(s3.getMetadata().getCreateRevision()).isPositive();
    assertThat(s3.getMetadata().getModRevision()).isPositive();
    assertThat(s3.hasUpdatedAt()).isTrue();

    // ids are OR-ed; unknown ids are ignored
    assertThat(queryIds(newQuery(n).ids(List.of("s1", "s5", "nope")))).containsExactlyInAnyOrder("s1", "s5");

    // everything under the name
    assertThat(queryIds(newQuery(n))).containsExactlyInAnyOrder("s1", "s2", "s3", "s4", "s5");

    // single condition
    assertThat(queryIds(newQuery(n).and(StringQueryCondition.eq("layer", "MESH"))))
        .containsExactlyInAnyOrder("s3", "s4");
    assertThat(queryIds(newQuery(n).and(LongQueryCondition.eq("count", 5L)))).containsExactly("s5");

    // chained and(): (count > 3) AND (layer = MESH)
    assertThat(
            queryIds(
                newQuery(n)
                    .and(StringQueryCondition.eq("layer", "MESH"))
                    .and(LongQueryCondition.gt("count", 3L))))
        .containsExactly("s4");
    // chained or(): (service = e) OR (service = a)
    assertThat(
            queryIds(
                newQuery(n)
                    .or(StringQueryCondition.eq("service", "a"))
                    .or(StringQueryCondition.eq("service", "e"))))
        .containsExactlyInAnyOrder("s1", "s5");
    // and() then or(): (service = e) OR (layer = MESH)
    assertThat(
            queryIds(
                newQuery(n)
                    .and(StringQueryCondition.eq("layer", "MESH"))
                    .or(StringQueryCondition.eq("service", "e"))))
        .containsExactlyInAnyOrder("s3", "s4", "s5");

    // explicit trees
    PropertyQuery tree1 = newQuery(n);
    tree1.criteria(
        And.create(
            StringQueryCondition.eq("layer", "MESH"),
            Or.create(StringQueryCondition.eq("service", "c"), StringQueryCondition.eq("service", "e"))));
    assertThat(queryIds(tree1)).containsExactly("s3");
    PropertyQuery tree2 = newQuery(n);
    tree2.criteria(
        Or.create(
            And.create(StringQueryCondition.eq("layer", "GENERAL"), LongQueryCondition.le("count", 1L)),
            StringQueryCondition.eq("layer", "K8S")));
    assertThat(queryIds(tree2)).containsExactlyInAnyOrder("s1", "s5");
    PropertyQuery range = newQuery(n);
    range.criteria(And.create(LongQueryCondition.ge("count", 2L), LongQueryCondition.lt("count", 4L)));
    assertThat(queryIds(range)).containsExactlyInAnyOrder("s2", "s3");
    assertThat(queryIds(newQuery(n).and(StringQueryCondition.ne("layer", "MESH"))))
        .containsExactlyInAnyOrder("s1", "s2", "s5");

    // criteria combined with ids: both must hold
    assertThat(
            queryIds(newQuery(n).ids(List.of("s1", "s3", "s4")).and(StringQueryCondition.eq("layer", "MESH"))))
        .containsExactlyInAnyOrder("s3", "s4");

    // projection: only the listed tags, in stored order
    PropertyQuery proj = new PropertyQuery(List.of(G), n, new LinkedHashSet<>(List.of("count", "service")));
    proj.id("s2");
    List<BanyandbProperty.Property> projected = client.query(proj.build()).getPropertiesList();
    assertThat(projected).hasSize(1);
    assertThat(projected.get(0).getTagsList()).containsExactly(str("service", "b"), int64("count", 2));
    assertThat(projected.get(0).getId()).isEqualTo("s2");

    // limit
    PropertyQuery limited = newQuery(n);
    limited.setLimit(2);
    List<String> two = queryIds(limited);
    assertThat(two).hasSize(2).doesNotHaveDuplicates();
    assertThat(two).isSubsetOf("s1", "s2", "s3", "s4", "s5");
    // limit 0 on the wire means 100
    BanyandbProperty.QueryRequest zero = newQuery(n).build().toBuilder().setLimit(0).build();
    assertThat(ids(client.query(zero).getPropertiesList()))
        .containsExactlyInAnyOrder("s1", "s2", "s3", "s4", "s5");
  }

  @Test
  @Order(7)
  void deleteByIdAndByName() throws Exception {
    String n = "del";
    client.apply(property(G, "ui_template", "keep", str("name", "other name, same group")));
    for (String id : List.of("d1", "d2", "d3")) {
      assertThat(client.apply(property(G, n, id, str("name", "v-" + id))).getCreated()).isTrue();
    }
    // "s1" under "del" was written by the query test (if it ran); make the set deterministic
    client.deleteProperty(G, n, "s1");
    assertThat(queryIds(newQuery(n))).containsExactlyInAnyOrder("d1", "d2", "d3");

    BanyandbProperty.Property d1Before = byId(client, G, n, "d1");
    assertThat(client.deleteProperty(G, n, "d1").getDeleted()).isTrue();
    // visible immediately on the same endpoint
    assertThat(byId(client, G, n, "d1")).as("d1 after delete").isNull();
    assertThat(queryIds(newQuery(n))).containsExactlyInAnyOrder("d2", "d3");
    assertThat(byId(client, G, n, "d2").getTagsList()).containsExactly(str("name", "v-d2"));

    assertThat(client.deleteProperty(G, n, "d1").getDeleted()).as("second delete of d1").isFalse();
    assertThat(client.deleteProperty(G, n, "never-written").getDeleted()).isFalse();

    // re-create after delete: created again, fresh content (no merge with the deleted version)
    BanyandbProperty.ApplyResponse again = client.apply(property(G, n, "d1", str("name", "reborn")));
    assertThat(again.getCreated()).as("created after delete").isTrue();
    assertThat(again.getTagsNum()).isEqualTo(1);
    BanyandbProperty.Property d1After = byId(client, G, n, "d1");
    assertThat(d1After.getTagsList()).containsExactly(str("name", "reborn"));
    assertThat(d1After.getMetadata().getModRevision())
        .isGreaterThan(d1Before.getMetadata().getModRevision());

    // delete by name (empty id): everything of that name goes, other names stay
    assertThat(client.deleteProperty(G, n, "").getDeleted()).isTrue();
    assertThat(queryIds(newQuery(n))).isEmpty();
    assertThat(byId(client, G, n, "d2")).isNull();
    assertThat(client.deleteProperty(G, n, "").getDeleted()).as("delete by name, nothing left").isFalse();
    assertThat(byId(client, G, "ui_template", "keep").getTagsList())
        .as("other name untouched")
        .containsExactly(str("name", "other name, same group"));
  }

  // -------------------------------------------------------------------------------------------

  private PropertyQuery newQuery(String name) {
    PropertyQuery q = new PropertyQuery(List.of(G), name, Set.of());
    q.setLimit(100);
    return q;
  }

  private List<String> queryIds(PropertyQuery q) throws BanyanDBException {
    List<BanyandbProperty.Property> props = client.query(q.build()).getPropertiesList();
    byIdMap(props); // no duplicates
    for (BanyandbProperty.Property p : props) {
      assertThat(p.getMetadata().getGroup()).isEqualTo(G);
    }
    return ids(props);
  }

  private Set<String> groupNames() throws BanyanDBException {
    return client.findGroups().stream()
        .map(g -> g.getMetadata().getName())
        .collect(Collectors.toCollection(LinkedHashSet::new));
  }

  interface ThrowingCall {
    void run() throws Exception;
  }

  private static void assertStatus(ThrowingCall call, Status.Code expected) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            BanyanDBException.class,
            e -> assertThat(e.getStatus()).as("gRPC status").isEqualTo(expected));
  }
}
