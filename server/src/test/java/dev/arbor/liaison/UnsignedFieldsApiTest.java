package dev.arbor.liaison;

import static dev.arbor.liaison.ApiTestSupport.assertStatus;
import static dev.arbor.liaison.ApiTestSupport.property;
import static dev.arbor.liaison.ApiTestSupport.propertyGroup;
import static dev.arbor.liaison.ApiTestSupport.spec;
import static dev.arbor.liaison.ApiTestSupport.str;
import static dev.arbor.liaison.ApiTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.admin.v1.BuildTreesRequest;
import dev.arbor.api.admin.v1.TreeAdminServiceGrpc;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.query.QueryLimit;
import io.grpc.Status;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code uint32} fields arrive in Java as ints, so 2^31 and above look negative: each is read as
 * unsigned, and the values that used to slip past a {@code > max} check are refused.
 */
class UnsignedFieldsApiTest {
  @TempDir static Path dataDir;
  static ApiTestSupport.Fixture api;
  static final String G = "unsigned";
  static final String S = "s";
  static final int TWO_POW_31 = Integer.MIN_VALUE; // bit pattern of 2^31 as a uint32
  static final int MAX_UINT32 = -1;

  @BeforeAll
  static void start() throws Exception {
    api = ApiTestSupport.Fixture.start(dataDir);
    api.createGroup(G, 2);
    api.createSchema(G, S, spec("v", TagType.TAG_TYPE_STRING));
    for (int i = 0; i < 3; i++) {
      api.apply(property(G, S, "p" + i, tag("v", str("x"))));
    }
  }

  @AfterAll
  static void stop() throws Exception {
    api.close();
  }

  @Test
  void queryLimitOf2Pow31AndAboveIsRefusedNotReadAsNegative() {
    for (int raw : new int[] {TWO_POW_31, MAX_UINT32}) {
      assertStatus(() -> api.query(ApiTestSupport.query(S, G).setLimit(raw)),
          Status.Code.INVALID_ARGUMENT, "limit", Integer.toUnsignedString(raw));
    }
    assertThat(api.query(ApiTestSupport.query(S, G).setLimit(2))).hasSize(2);
  }

  @Test
  void shardNumAndReplicasAreReadUnsigned() {
    for (int raw : new int[] {TWO_POW_31, MAX_UINT32}) {
      Group shards = propertyGroup("big_shards", 1).toBuilder()
          .setResourceOpts(propertyGroup("x", 1).getResourceOpts().toBuilder().setShardNum(raw)).build();
      assertStatus(() -> api.groups.create(GroupRegistryServiceCreateRequest.newBuilder().setGroup(shards).build()),
          Status.Code.INVALID_ARGUMENT, "group.resource_opts.shard_num", Integer.toUnsignedString(raw));
      Group replicas = propertyGroup("big_replicas", 1).toBuilder()
          .setResourceOpts(propertyGroup("x", 1).getResourceOpts().toBuilder().setReplicas(raw)).build();
      assertStatus(() -> api.groups.create(GroupRegistryServiceCreateRequest.newBuilder().setGroup(replicas).build()),
          Status.Code.INVALID_ARGUMENT, "group.resource_opts.replicas", Integer.toUnsignedString(raw));
    }
  }

  @Test
  void treeBuildOfShard2Pow31IsOutOfRange() {
    var trees = TreeAdminServiceGrpc.newBlockingStub(api.channel);
    assertStatus(() -> trees.buildTrees(BuildTreesRequest.newBuilder().setGroup(G).setShard(TWO_POW_31).build()),
        Status.Code.INVALID_ARGUMENT, "shard 2147483648 is out of range");
  }

  @Test
  void dataNodesClampTheLimitInsteadOfTrustingTheCaller() {
    assertThat(QueryLimit.clamped(0)).isEqualTo(QueryLimit.DEFAULT);
    assertThat(QueryLimit.clamped(7)).isEqualTo(7);
    assertThat(QueryLimit.clamped(MAX_UINT32)).isEqualTo(QueryLimit.HARD_MAX);
    assertThat(QueryLimit.clamped(TWO_POW_31)).isEqualTo(QueryLimit.HARD_MAX);
  }
}
