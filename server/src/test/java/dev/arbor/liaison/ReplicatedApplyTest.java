package dev.arbor.liaison;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.ApplyResponse;
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.DataNodes;
import dev.arbor.cluster.WriteConsistency;
import dev.arbor.datanode.DataNodeGrpcService;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.MetadataGroupIncarnations;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.query.QueryPlanner;
import dev.arbor.storage.IncarnationGate;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.StoreEvents;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.BareServers;
import dev.arbor.transport.MessageLimits;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Applies through a liaison over two real data nodes (real stores, real gRPC on loopback), where
 * pre-reads and writes are batched per node: a replace reads only the previous version, yet
 * answers {@code created} and keeps {@code create_revision} exactly as a merge does; and many
 * concurrent applies each land, on both replicas, with their own answer.
 */
class ReplicatedApplyTest {
  private static final String G = "g";
  private static final int SHARDS = 2;

  @TempDir Path dir;
  private EmbeddedMetadataStore metadata;
  private final List<PropertyStore> stores = new ArrayList<>();
  private final List<Server> nodeServers = new ArrayList<>();
  private DataNodes dataNodes;
  private ReplicatedApi api;
  private Server liaison;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
    metadata.createGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName(G))
        .setCatalog(Catalog.CATALOG_PROPERTY)
        .setResourceOpts(ResourceOpts.newBuilder().setShardNum(SHARDS).setReplicas(1)).build());
    metadata.createSchema(dev.arbor.api.banyandb.database.v1.Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName("n"))
        .addTags(TagSpec.newBuilder().setName("a").setType(TagType.TAG_TYPE_STRING))
        .addTags(TagSpec.newBuilder().setName("b").setType(TagType.TAG_TYPE_STRING)).build());
    List<DataNode> ids = new ArrayList<>();
    for (int i = 1; i <= 2; i++) {
      PropertyStore store = PropertyStore.open(dir.resolve("d" + i), new MetadataGroupIncarnations(metadata),
          new StoreEvents());
      stores.add(store);
      SchemaLookup lookup = new SchemaLookup(metadata);
      Server s = BareServers.start("127.0.0.1", 0,
          new DataNodeGrpcService(lookup, store, new QueryPlanner(lookup, store),
              new IncarnationGate(store, new MetadataGroupIncarnations(metadata), Duration.ofSeconds(2))));
      nodeServers.add(s);
      ids.add(DataNode.of("d" + i, "127.0.0.1:" + s.getPort()));
    }
    dataNodes = new DataNodes(Duration.ofSeconds(10));
    dataNodes.update(ids);
    api = new ReplicatedApi(metadata, dataNodes, HybridClock.system(), RequestLimits.DEFAULTS, "test",
        () -> WriteConsistency.ALL, 16);
    liaison = BareServers.start("127.0.0.1", 0, api.services().toArray(BindableService[]::new));
    channel = ChannelFactory.plaintext().open("127.0.0.1:" + liaison.getPort(), MessageLimits.MAX_MESSAGE_BYTES);
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    liaison.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    api.close();
    dataNodes.close();
    for (Server s : nodeServers) {
      s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (PropertyStore s : stores) {
      s.close();
    }
  }

  private PropertyServiceGrpc.PropertyServiceBlockingStub props() {
    return PropertyServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private static Tag tag(String k, String v) {
    return Tag.newBuilder().setKey(k).setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(v))).build();
  }

  private ApplyResponse apply(String id, ApplyRequest.Strategy strategy, Tag... tags) {
    return props().apply(ApplyRequest.newBuilder().setStrategy(strategy).setProperty(Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName("n")).setId(id).addAllTags(List.of(tags))).build());
  }

  /** The key's copy on every data node (each holds one copy: two nodes, two copies). */
  private List<PropertyRecord> copies(String id) {
    EntityKey k = new EntityKey(G, "n", id);
    return stores.stream().map(s -> s.latest(G, ShardRouter.shardOf(k, SHARDS), k)).toList();
  }

  private static Property parse(PropertyRecord r) throws Exception {
    return Property.parseFrom(r.source());
  }

  @Test
  void aReplaceReadsOnlyTheVersionYetKeepsCreatedAndCreateRevisionExact() throws Exception {
    assertThat(apply("p", ApplyRequest.Strategy.STRATEGY_MERGE, tag("a", "1"), tag("b", "2")).getCreated()).isTrue();
    long created = copies("p").get(0).createRevision();

    ApplyResponse replaced = apply("p", ApplyRequest.Strategy.STRATEGY_REPLACE, tag("a", "3"));
    assertThat(replaced.getCreated()).isFalse();
    assertThat(replaced.getTagsNum()).isEqualTo(1);
    for (PropertyRecord r : copies("p")) {
      assertThat(r.createRevision()).as("create_revision of the first version").isEqualTo(created);
      assertThat(r.modRevision()).isGreaterThan(created);
      assertThat(parse(r).getTagsList()).containsExactly(tag("a", "3"));
      assertThat(parse(r).getMetadata().getCreateRevision()).isEqualTo(created);
    }

    props().delete(DeleteRequest.newBuilder().setGroup(G).setName("n").setId("p").build());
    long deletedAt = copies("p").get(0).modRevision();
    ApplyResponse again = apply("p", ApplyRequest.Strategy.STRATEGY_REPLACE, tag("b", "4"));
    assertThat(again.getCreated()).as("over a tombstone").isTrue();
    for (PropertyRecord r : copies("p")) {
      assertThat(r.deleted()).isFalse();
      assertThat(r.modRevision()).isGreaterThan(deletedAt);
      assertThat(r.createRevision()).as("a new life starts its own create_revision").isEqualTo(r.modRevision());
      assertThat(parse(r).getTagsList()).containsExactly(tag("b", "4"));
    }
  }

  @Test
  void concurrentAppliesEachLandOnBothReplicasWithTheirOwnAnswer() throws Exception {
    int clients = 16;
    int each = 10;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Future<List<ApplyResponse>>> done = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        final int client = c;
        done.add(pool.submit(() -> {
          List<ApplyResponse> out = new ArrayList<>();
          for (int i = 0; i < each; i++) {
            // Every second apply updates the key the client created just before.
            String id = "c" + client + "-" + (i / 2);
            out.add(apply(id, ApplyRequest.Strategy.STRATEGY_MERGE, tag(i % 2 == 0 ? "a" : "b", client + ":" + i)));
          }
          return out;
        }));
      }
      for (int c = 0; c < clients; c++) {
        List<ApplyResponse> answers = done.get(c).get(60, TimeUnit.SECONDS);
        for (int i = 0; i < each; i++) {
          assertThat(answers.get(i).getCreated()).as("client %d apply %d", c, i).isEqualTo(i % 2 == 0);
          assertThat(answers.get(i).getTagsNum()).isEqualTo(i % 2 == 0 ? 1 : 2);
        }
        for (int k = 0; k < each / 2; k++) {
          for (PropertyRecord r : copies("c" + c + "-" + k)) {
            assertThat(parse(r).getTagsList()).containsExactly(tag("b", c + ":" + (2 * k + 1)), tag("a", c + ":" + 2 * k));
          }
        }
      }
      long[] batches = api.replicaBatchCounts();
      // Two reads and two writes per apply, every one of them answered through a batch.
      assertThat(batches[1]).isEqualTo(4L * clients * each);
    } finally {
      pool.shutdownNow();
    }
  }
}
