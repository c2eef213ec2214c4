package dev.arbor.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceCreateRequest;
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
import dev.arbor.api.repair.v1.RepairAdminServiceGrpc;
import dev.arbor.api.repair.v1.RepairProgress;
import dev.arbor.api.repair.v1.RunRepairRequest;
import dev.arbor.cluster.WriteConsistency;
import dev.arbor.liaison.ReplicaCallLimits;
import dev.arbor.liaison.RequestLimits;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.EmbeddedNodeRegistry;
import dev.arbor.metadata.RegisteredNode;
import dev.arbor.property.HybridClock;
import dev.arbor.server.DataNodeServer;
import dev.arbor.server.InternalListener;
import dev.arbor.server.LiaisonMembership;
import dev.arbor.server.LiaisonServer;
import dev.arbor.server.RepairConfig;
import dev.arbor.server.ServerConfig;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.GrpcServerLimits;
import dev.arbor.transport.InternalTls;
import dev.arbor.transport.SecurityConfig;
import dev.arbor.transport.TestPki;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A liaison and two data nodes in one JVM, every call between them over mutual TLS with the
 * cluster CA: the liaison writes and reads (liaison → data node), a repair round runs (data
 * node → data node), and only registered members get through.
 */
class ClusterMtlsTest {
  @TempDir Path dir;

  @Test
  void aLiaisonAndDataNodesWriteReadAndRepairOverMutualTls() throws Exception {
    TestPki pki = TestPki.newCa("arbor-cluster");
    Path ca = pki.writeCa(dir.resolve("ca.crt"));
    RepairConfig repair = new RepairConfig("off", Duration.ofMinutes(1), Duration.ofMinutes(1), Duration.ofHours(1),
        Duration.ofDays(1));
    EmbeddedNodeRegistry registry = new EmbeddedNodeRegistry();
    List<DataNodeServer> nodes = new ArrayList<>();
    try (EmbeddedMetadataStore metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system())) {
      try {
        for (String id : List.of("n1", "n2")) {
          TestPki.Leaf cert = pki.issue(id, dir, id);
          nodes.add(DataNodeServer.start(id, ServerConfig.defaults(dir.resolve(id)).withHost("127.0.0.1")
                  .withPorts(0, 0).withRepair(repair), metadata, registry, "127.0.0.1", Duration.ofMinutes(1),
              SecurityConfig.NONE, new InternalListener("127.0.0.1", 0,
                  new InternalTls(cert.certFile(), cert.keyFile(), ca, Duration.ofSeconds(10)), false)));
        }
        TestPki.Leaf liaisonCert = pki.issue("liaison-1", dir, "liaison-1");
        try (LiaisonServer liaison = LiaisonServer.start("127.0.0.1", 0, 0, metadata, registry, RequestLimits.DEFAULTS,
            WriteConsistency.ALL, Duration.ofSeconds(10), 64, HybridClock.system(), GrpcServerLimits.DEFAULTS,
            ReplicaCallLimits.DEFAULTS, SecurityConfig.NONE, new LiaisonMembership("liaison-1", "127.0.0.1",
                Duration.ofMinutes(1), new InternalTls(liaisonCert.certFile(), liaisonCert.keyFile(), ca,
                    Duration.ofSeconds(10))))) {
          assertThat(registry.node("liaison-1")).map(RegisteredNode::roles).hasValue(java.util.Set.of("liaison"));
          ManagedChannel api = ChannelFactory.plaintext().open("127.0.0.1:" + liaison.grpcPort(), 16 << 20);
          try {
            GroupRegistryServiceGrpc.newBlockingStub(api).create(GroupRegistryServiceCreateRequest.newBuilder()
                .setGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName("g"))
                    .setCatalog(Catalog.CATALOG_PROPERTY)
                    .setResourceOpts(ResourceOpts.newBuilder().setShardNum(2).setReplicas(1))).build());
            PropertyRegistryServiceGrpc.newBlockingStub(api).create(PropertyRegistryServiceCreateRequest.newBuilder()
                .setProperty(dev.arbor.api.banyandb.database.v1.Property.newBuilder()
                    .setMetadata(Metadata.newBuilder().setGroup("g").setName("t"))
                    .addTags(TagSpec.newBuilder().setName("title").setType(TagType.TAG_TYPE_STRING)))
                .build());
            var props = PropertyServiceGrpc.newBlockingStub(api).withDeadlineAfter(30, TimeUnit.SECONDS);
            for (int i = 0; i < 10; i++) {
              props.apply(ApplyRequest.newBuilder().setProperty(Property.newBuilder()
                  .setMetadata(Metadata.newBuilder().setGroup("g").setName("t")).setId("p" + i)
                  .addTags(Tag.newBuilder().setKey("title")
                      .setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue("v" + i))))).build());
            }
            assertThat(props.query(QueryRequest.newBuilder().addGroups("g").setName("t").build())
                .getPropertiesCount()).isEqualTo(10);
          } finally {
            api.shutdownNow();
          }
          // A round over both nodes: n1 opens repair sessions and gossips to n2 over mutual TLS.
          ManagedChannel admin = ChannelFactory.plaintext().open("127.0.0.1:" + nodes.get(0).grpcPort(), 16 << 20);
          try {
            List<RepairProgress> events = new ArrayList<>();
            RepairAdminServiceGrpc.newBlockingStub(admin).withDeadlineAfter(60, TimeUnit.SECONDS)
                .runRepair(RunRepairRequest.newBuilder().setGroup("g").setAllShards(true).build())
                .forEachRemaining(events::add);
            assertThat(events.stream().filter(RepairProgress::hasOutcome).map(e -> e.getOutcome().getStatus()))
                .containsOnly("COMPLETED").hasSize(2);
          } finally {
            admin.shutdownNow();
          }
        }
      } finally {
        nodes.forEach(DataNodeServer::close);
      }
    }
  }
}
