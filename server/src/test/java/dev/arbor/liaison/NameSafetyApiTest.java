package dev.arbor.liaison;

import static dev.arbor.liaison.ApiTestSupport.assertStatus;
import static dev.arbor.liaison.ApiTestSupport.property;
import static dev.arbor.liaison.ApiTestSupport.propertyGroup;
import static dev.arbor.liaison.ApiTestSupport.spec;
import static dev.arbor.liaison.ApiTestSupport.str;
import static dev.arbor.liaison.ApiTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceDeleteRequest;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.property.Names;
import io.grpc.Status;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Names become directories: a group named {@code ..} once deleted a node's whole data directory
 * through the public API. Every name that could leave its directory, or is not portable, is
 * refused with INVALID_ARGUMENT naming the field, and the node's data survives the attempts.
 */
class NameSafetyApiTest {
  @TempDir static Path dataDir;
  static ApiTestSupport.Fixture api;

  static final String G = "sw_propertyGroup";
  static final String S = "ui_template";

  @BeforeAll
  static void start() throws Exception {
    api = ApiTestSupport.Fixture.start(dataDir);
    api.createGroup(G, 2);
    api.createSchema(G, S, spec("title", TagType.TAG_TYPE_STRING));
    api.apply(property(G, S, "home", tag("title", str("Home"))));
  }

  @AfterAll
  static void stop() throws Exception {
    api.close();
  }

  static Stream<String> unsafeNames() {
    return Stream.of(".", "..", "../x", "x/..", "a/b", "a\\b", "a b", "-x", ".hidden", "a\u0000b",
        "line\nbreak", "x".repeat(Names.MAX_NAME_LENGTH + 1), "ümlaut");
  }

  @ParameterizedTest
  @MethodSource("unsafeNames")
  void groupCreateRefusesUnsafeNames(String name) {
    assertStatus(
        () -> api.groups.create(GroupRegistryServiceCreateRequest.newBuilder()
            .setGroup(propertyGroup(name, 1)).build()),
        Status.Code.INVALID_ARGUMENT, "group.metadata.name");
    assertThat(api.groups.list(
        dev.arbor.api.banyandb.database.v1.GroupRegistryServiceListRequest.getDefaultInstance())
        .getGroupList()).extracting(g -> g.getMetadata().getName()).doesNotContain(name);
  }

  @ParameterizedTest
  @MethodSource("unsafeNames")
  void groupDeleteRefusesUnsafeNamesAndKeepsEveryGroupsData(String name) throws Exception {
    assertStatus(
        () -> api.groups.delete(GroupRegistryServiceDeleteRequest.newBuilder().setGroup(name).build()),
        Status.Code.INVALID_ARGUMENT, "group");
    assertThat(dataDir.resolve("wal")).isDirectory();
    assertThat(dataDir.resolve("meta").resolve("metadata.bin")).isRegularFile();
    assertThat(dataDir.resolve("data").resolve(G)).isDirectory();
    assertThat(api.query(ApiTestSupport.query(S, G))).extracting(Property::getId).containsExactly("home");
  }

  @ParameterizedTest
  @MethodSource("unsafeNames")
  void schemaAndPropertyRequestsRefuseUnsafeNames(String name) {
    assertStatus(() -> api.createSchema(G, name, spec("k", TagType.TAG_TYPE_STRING)),
        Status.Code.INVALID_ARGUMENT, "property.metadata.name");
    assertStatus(() -> api.apply(property(G, name, "x", tag("title", str("t")))),
        Status.Code.INVALID_ARGUMENT, "property.metadata.name");
    assertStatus(() -> api.apply(property(name, S, "x", tag("title", str("t")))),
        Status.Code.INVALID_ARGUMENT, "property.metadata.group");
    assertStatus(() -> api.properties.delete(DeleteRequest.newBuilder().setGroup(name).setName(S).build()),
        Status.Code.INVALID_ARGUMENT, "group");
  }

  @Test
  void namesSkyWalkingAndTheClientWorkflowUseAreAccepted() {
    for (String name : List.of("sw_metricsMinute", "sw-records.v2", "_internal", "A1", "x".repeat(Names.MAX_NAME_LENGTH))) {
      Group g = api.createGroup(name, 1);
      assertThat(g.getMetadata().getName()).isEqualTo(name);
      api.createSchema(name, "continuous_profiling_policy", spec("v", TagType.TAG_TYPE_STRING));
      api.apply(property(name, "continuous_profiling_policy", "svc-1", tag("v", str("on"))));
      assertThat(api.query(ApiTestSupport.query("continuous_profiling_policy", name)))
          .extracting(Property::getId).containsExactly("svc-1");
    }
  }

  @Test
  void idsAndTagKeysHaveLengthLimits() {
    String longId = "i".repeat(Names.MAX_ID_BYTES + 1);
    assertStatus(() -> api.apply(property(G, S, longId, tag("title", str("t")))),
        Status.Code.INVALID_ARGUMENT, "property.id", String.valueOf(Names.MAX_ID_BYTES));
    assertStatus(() -> api.properties.delete(DeleteRequest.newBuilder().setGroup(G).setName(S).setId(longId).build()),
        Status.Code.INVALID_ARGUMENT, "id");
    // The longest id allowed is stored and found again.
    String maxId = "i".repeat(Names.MAX_ID_BYTES);
    api.apply(property(G, S, maxId, tag("title", str("t"))));
    assertThat(api.query(ApiTestSupport.query(S, G).addIds(maxId))).hasSize(1);

    String longKey = "k".repeat(Names.MAX_TAG_KEY_LENGTH + 1);
    assertStatus(() -> api.createSchema(G, "long_key", spec(longKey, TagType.TAG_TYPE_STRING)),
        Status.Code.INVALID_ARGUMENT, "property.tags[0].name");
    assertStatus(() -> api.apply(property(G, S, "k", tag(longKey, str("t")))),
        Status.Code.INVALID_ARGUMENT, "property.tags[0].key");
  }
}
