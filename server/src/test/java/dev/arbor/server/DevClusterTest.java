package dev.arbor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceDeleteRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceGrpc;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceGrpc;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.cluster.WriteConsistency;
import dev.arbor.liaison.RequestLimits;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.EmbeddedNodeRegistry;
import dev.arbor.property.HybridClock;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.MessageLimits;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-process dev cluster end to end: liaison, three data nodes, shared embedded metadata. */
class DevClusterTest {
  @TempDir Path dir;

  @Test
  void servesTheApiPlacesCopiesAndDropsDeletedGroupsOnEveryNode() throws Exception {
    EmbeddedMetadataStore metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
    ServerConfig template = ServerConfig.defaults(dir).withHost("127.0.0.1").withPorts(0, 0);
    try (DevCluster cluster = DevCluster.start(3, template, metadata, new EmbeddedNodeRegistry(), "127.0.0.1", 0, 0,
        RequestLimits.DEFAULTS, WriteConsistency.ALL)) {
      ManagedChannel ch = ChannelFactory.plaintext()
          .open("127.0.0.1:" + cluster.liaison().grpcPort(), MessageLimits.MAX_MESSAGE_BYTES);
      try {
        var groups = GroupRegistryServiceGrpc.newBlockingStub(ch);
        assertThatThrownBy(() -> groups.create(GroupRegistryServiceCreateRequest.newBuilder().setGroup(group("big", 3)).build()))
            .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
              assertThat(e.getStatus().getDescription()).contains("4 copies", "3 data nodes");
            });
        groups.create(GroupRegistryServiceCreateRequest.newBuilder().setGroup(group("ui", 1)).build());
        PropertyRegistryServiceGrpc.newBlockingStub(ch).create(PropertyRegistryServiceCreateRequest.newBuilder()
            .setProperty(dev.arbor.api.banyandb.database.v1.Property.newBuilder()
                .setMetadata(Metadata.newBuilder().setGroup("ui").setName("t"))
                .addTags(TagSpec.newBuilder().setName("title").setType(TagType.TAG_TYPE_STRING)))
            .build());
        var props = PropertyServiceGrpc.newBlockingStub(ch);
        for (int i = 0; i < 10; i++) {
          props.apply(ApplyRequest.newBuilder().setProperty(Property.newBuilder()
              .setMetadata(Metadata.newBuilder().setGroup("ui").setName("t")).setId("p" + i)
              .addTags(Tag.newBuilder().setKey("title")
                  .setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue("v" + i))))).build());
        }
        assertThat(props.query(QueryRequest.newBuilder().addGroups("ui").setName("t").build()).getPropertiesCount())
            .isEqualTo(10);
        // replicas 1 → 2 copies of each shard over 3 nodes: every node holds some data, none all.
        long nodesWithData = cluster.dataNodes().stream()
            .filter(n -> Files.isDirectory(dir.resolve(n.nodeId()).resolve("data").resolve("ui"))).count();
        assertThat(nodesWithData).isBetween(2L, 3L);

        groups.delete(GroupRegistryServiceDeleteRequest.newBuilder().setGroup("ui").build());
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(cluster.dataNodes())
            .allSatisfy(n -> assertThat(dir.resolve(n.nodeId()).resolve("data").resolve("ui")).doesNotExist()));
      } finally {
        ch.shutdownNow();
      }
    }
  }

  private static Group group(String name, int replicas) {
    return Group.newBuilder().setMetadata(Metadata.newBuilder().setName(name)).setCatalog(Catalog.CATALOG_PROPERTY)
        .setResourceOpts(ResourceOpts.newBuilder().setShardNum(2).setReplicas(replicas)).build();
  }
}
