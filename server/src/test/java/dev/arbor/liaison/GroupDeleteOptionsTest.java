package dev.arbor.liaison;

import static dev.arbor.liaison.ApiTestSupport.assertStatus;
import static dev.arbor.liaison.ApiTestSupport.property;
import static dev.arbor.liaison.ApiTestSupport.spec;
import static dev.arbor.liaison.ApiTestSupport.str;
import static dev.arbor.liaison.ApiTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceDeleteRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceExistRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceListRequest;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.property.v1.Property;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BanyanDB clients 0.10+ send {@code dry_run}, {@code force} and {@code data_only} with a group
 * Delete. A server that ignored them (as protobuf does with unknown fields) deleted the group on a
 * dry run; these are the fields' meanings here.
 */
class GroupDeleteOptionsTest {
  @TempDir Path dataDir;
  ApiTestSupport.Fixture api;

  @BeforeEach
  void start() throws Exception {
    api = ApiTestSupport.Fixture.start(dataDir);
    api.createGroup("ui", 2);
    api.createSchema("ui", "template", spec("title", TagType.TAG_TYPE_STRING));
    api.createSchema("ui", "menu", spec("title", TagType.TAG_TYPE_STRING));
    for (int i = 0; i < 5; i++) {
      api.apply(property("ui", "template", "t" + i, tag("title", str("T" + i))));
      api.apply(property("ui", "menu", "m" + i, tag("title", str("M" + i))));
    }
  }

  @AfterEach
  void stop() throws Exception {
    api.close();
  }

  private boolean delete(GroupRegistryServiceDeleteRequest.Builder req) {
    return api.groups.delete(req.setGroup("ui").build()).getDeleted();
  }

  private boolean groupExists() {
    return api.groups.exist(GroupRegistryServiceExistRequest.newBuilder().setGroup("ui").build()).getHasGroup();
  }

  private long properties() {
    return api.query(ApiTestSupport.query("template", "ui")).size() + api.query(ApiTestSupport.query("menu", "ui")).size();
  }

  @Test
  void aDryRunDeletesNothing() {
    assertThat(delete(GroupRegistryServiceDeleteRequest.newBuilder().setDryRun(true))).isFalse();
    assertThat(delete(GroupRegistryServiceDeleteRequest.newBuilder().setDryRun(true).setForce(true))).isFalse();
    assertThat(groupExists()).isTrue();
    assertThat(properties()).isEqualTo(10);
    assertThat(dataDir.resolve("data").resolve("ui")).isDirectory();
    assertStatus(() -> api.groups.delete(GroupRegistryServiceDeleteRequest.newBuilder().setGroup("nope").setDryRun(true).build()),
        Status.Code.NOT_FOUND, "group nope");
  }

  @Test
  void dataOnlyDeletesEveryPropertyAndKeepsGroupAndSchemas() {
    assertThat(delete(GroupRegistryServiceDeleteRequest.newBuilder().setDataOnly(true))).isTrue();
    assertThat(groupExists()).isTrue();
    assertThat(api.schemas.list(PropertyRegistryServiceListRequest.newBuilder().setGroup("ui").build()).getPropertiesList())
        .extracting(s -> s.getMetadata().getName()).containsExactlyInAnyOrder("template", "menu");
    assertThat(properties()).isZero();
    // Nothing left to delete the second time; the group keeps working.
    assertThat(delete(GroupRegistryServiceDeleteRequest.newBuilder().setDataOnly(true))).isFalse();
    api.apply(property("ui", "template", "t0", tag("title", str("again"))));
    assertThat(api.query(ApiTestSupport.query("template", "ui"))).extracting(Property::getId).containsExactly("t0");
  }

  @Test
  void forceIsAcceptedAndAPlainDeleteStillDeletes() {
    assertThat(delete(GroupRegistryServiceDeleteRequest.newBuilder().setForce(true))).isTrue();
    assertThat(groupExists()).isFalse();
    assertThat(Files.exists(dataDir.resolve("data").resolve("ui"))).isFalse();
  }
}
