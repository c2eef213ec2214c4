package dev.arbor.liaison;

import static dev.arbor.liaison.TraceSpans.intTag;
import static dev.arbor.liaison.TraceSpans.tag;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.common.v1.Span;
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
import dev.arbor.api.banyandb.property.v1.QueryResponse;
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
import dev.arbor.storage.ShardWrite;
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
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code QueryRequest.trace} on a liaison over three real data nodes (real stores, real gRPC on
 * loopback): the root span holds one span per data node called, which holds the node's own span,
 * which holds one span per shard it searched; a lagging replica adds a confirming read that
 * queues a read repair.
 */
class ClusterQueryTraceTest {
  private static final String G = "traced";
  private static final int SHARDS = 2;
  private static final int PROPERTIES = 12;

  @TempDir Path dir;
  private EmbeddedMetadataStore metadata;
  private final List<Node> nodes = new ArrayList<>();
  private DataNodes dataNodes;
  private ReplicatedApi api;
  private Server liaison;
  private ManagedChannel channel;

  private final class Node {
    final PropertyStore store;
    final Server server;
    final DataNode id;

    Node(String name) throws Exception {
      store = PropertyStore.open(dir.resolve(name), new MetadataGroupIncarnations(metadata), new StoreEvents());
      SchemaLookup lookup = new SchemaLookup(metadata);
      DataNodeGrpcService service = new DataNodeGrpcService(lookup, store, new QueryPlanner(lookup, store),
          new IncarnationGate(store, new MetadataGroupIncarnations(metadata), Duration.ofSeconds(2)));
      server = BareServers.start("127.0.0.1", 0, service);
      id = DataNode.of(name, "127.0.0.1:" + server.getPort());
    }
  }

  @BeforeEach
  void start() throws Exception {
    metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
    for (int i = 1; i <= 3; i++) {
      nodes.add(new Node("d" + i));
    }
    dataNodes = new DataNodes(Duration.ofSeconds(5));
    dataNodes.update(nodes.stream().map(n -> n.id).toList());
    api = new ReplicatedApi(metadata, dataNodes, HybridClock.system(), RequestLimits.DEFAULTS, "test",
        () -> WriteConsistency.ALL, 128);
    liaison = BareServers.start("127.0.0.1", 0, api.services().toArray(BindableService[]::new));
    channel = ChannelFactory.plaintext().open("127.0.0.1:" + liaison.getPort(), MessageLimits.MAX_MESSAGE_BYTES);
    GroupRegistryServiceGrpc.newBlockingStub(channel).create(GroupRegistryServiceCreateRequest.newBuilder()
        .setGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName(G)).setCatalog(Catalog.CATALOG_PROPERTY)
            .setResourceOpts(ResourceOpts.newBuilder().setShardNum(SHARDS).setReplicas(1)))
        .build());
    PropertyRegistryServiceGrpc.newBlockingStub(channel).create(PropertyRegistryServiceCreateRequest.newBuilder()
        .setProperty(dev.arbor.api.banyandb.database.v1.Property.newBuilder()
            .setMetadata(Metadata.newBuilder().setGroup(G).setName("t"))
            .addTags(TagSpec.newBuilder().setName("title").setType(TagType.TAG_TYPE_STRING)))
        .build());
    for (int i = 0; i < PROPERTIES; i++) {
      props().apply(ApplyRequest.newBuilder().setProperty(Property.newBuilder()
          .setMetadata(Metadata.newBuilder().setGroup(G).setName("t")).setId("p" + i)
          .addTags(Tag.newBuilder().setKey("title")
              .setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue("t" + i))))).build());
    }
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    liaison.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    api.close();
    dataNodes.close();
    for (Node n : nodes) {
      n.server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      n.store.close();
    }
  }

  private PropertyServiceGrpc.PropertyServiceBlockingStub props() {
    return PropertyServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private QueryResponse tracedQuery(String... ids) {
    return props().query(QueryRequest.newBuilder().addGroups(G).setName("t").addAllIds(Arrays.asList(ids))
        .setTrace(true).build());
  }

  @Test
  void aTracedQueryNestsDataNodesAndTheirShardSearches() {
    QueryResponse r = tracedQuery();
    assertThat(r.getPropertiesCount()).isEqualTo(PROPERTIES);
    Span root = r.getTrace().getSpans(0);
    assertThat(tag(root, "role")).isEqualTo("liaison");
    assertThat(intTag(root, "results")).isEqualTo(PROPERTIES);
    assertThat(tag(root, "confirm_read")).as("every replica agrees: no confirming read").isEqualTo("false");
    assertThat(intTag(root, "read_repairs_queued")).isZero();
    List<Span> calls = TraceSpans.childrenStartingWith(root, "data node ");
    assertThat(calls).hasSize(root.getChildrenCount()).hasSize(intTag(root, "nodes"));
    // Two shards with two copies each, placed over three nodes: at least two nodes are asked.
    assertThat(calls.size()).isBetween(2, 3);
    Set<String> copiesSearched = new HashSet<>();
    int rowsReturned = 0;
    for (Span call : calls) {
      String nodeId = tag(call, "node_id");
      assertThat(nodes).extracting(n -> n.id.id().toString()).contains(nodeId);
      assertThat(call.getMessage()).isEqualTo("data node " + nodeId);
      assertThat(call.getError()).isFalse();
      assertThat(intTag(call, "round")).isEqualTo(1);
      assertThat(call.getChildrenList()).hasSize(intTag(call, "pages")).hasSize(1);
      Span onNode = call.getChildren(0);
      assertThat(onNode.getMessage()).startsWith("query shards");
      assertThat(intTag(onNode, "properties")).isEqualTo(intTag(call, "properties"));
      List<String> shards = onNode.getChildrenList().stream().map(s -> tag(s, "group") + "/" + tag(s, "shard")).toList();
      assertThat(String.join(",", shards.stream().sorted().toList())).isEqualTo(tag(call, "shards"));
      assertThat(onNode.getChildrenList().stream().mapToInt(s -> intTag(s, "hits")).sum())
          .isEqualTo(intTag(onNode, "properties"));
      shards.forEach(s -> copiesSearched.add(nodeId + ":" + s));
      rowsReturned += intTag(call, "properties");
      TraceSpans.sequentialChildrenWithinDuration(call);
      TraceSpans.sequentialChildrenWithinDuration(onNode);
      TraceSpans.childrenWithinTimes(onNode);
    }
    assertThat(copiesSearched).as("every copy of every shard searched once").hasSize(SHARDS * 2);
    assertThat(rowsReturned).as("each property comes from both its copies").isEqualTo(2 * PROPERTIES);
    TraceSpans.eachChildWithinDuration(root);
    TraceSpans.childrenWithinTimes(root);
  }

  @Test
  void aQueryByIdCallsOnlyTheReplicasOfItsShard() {
    int shard = ShardRouter.shardOf(new EntityKey(G, "t", "p3"), SHARDS);
    Set<String> replicas = new HashSet<>(dataNodes.replicas(G, shard, 2).stream().map(n -> n.id().toString()).toList());
    Span root = tracedQuery("p3").getTrace().getSpans(0);
    assertThat(root.getChildrenList()).extracting(s -> tag(s, "node_id")).containsExactlyInAnyOrderElementsOf(replicas);
    for (Span call : root.getChildrenList()) {
      assertThat(tag(call, "shards")).isEqualTo(G + "/" + shard);
      Span shardSearch = call.getChildren(0).getChildren(0);
      assertThat(intTag(shardSearch, "hits")).isEqualTo(1);
    }
  }

  @Test
  void aLaggingReplicaShowsAConfirmingReadAndTheRepairItQueued() throws Exception {
    String id = "p5";
    EntityKey key = new EntityKey(G, "t", id);
    int shard = ShardRouter.shardOf(key, SHARDS);
    DataNode first = dataNodes.replicas(G, shard, 2).get(0);
    Node ahead = nodes.stream().filter(n -> n.id.equals(first)).findFirst().orElseThrow();
    // A newer version lands on one replica only, as a write that reached one copy would leave it.
    PropertyRecord current = ahead.store.latest(G, shard, key);
    Property newer = Property.parseFrom(current.source()).toBuilder().clearTags()
        .addTags(Tag.newBuilder().setKey("title").setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue("newer"))))
        .build();
    long rev = current.modRevision() + 1;
    newer = newer.toBuilder().setMetadata(newer.getMetadata().toBuilder().setModRevision(rev)).build();
    ahead.store.applyIfNewer(List.of(new ShardWrite(G, shard, PropertyRecord.live(key, rev, current.createRevision(), newer.toByteArray()))));

    QueryResponse r = tracedQuery(id);
    assertThat(r.getPropertiesList()).singleElement()
        .satisfies(p -> assertThat(p.getTags(0).getValue().getStr().getValue()).isEqualTo("newer"));
    Span root = r.getTrace().getSpans(0);
    assertThat(tag(root, "confirm_read")).isEqualTo("true");
    assertThat(intTag(root, "read_repairs_queued")).isEqualTo(1);
    List<Span> confirms = TraceSpans.childrenStartingWith(root, "confirm read ");
    assertThat(confirms).singleElement().satisfies(c -> {
      assertThat(c.getMessage()).isEqualTo("confirm read " + G + "/" + shard);
      assertThat(intTag(c, "keys")).isEqualTo(1);
      assertThat(intTag(c, "answered")).isEqualTo(2);
      assertThat(intTag(c, "read_repairs_queued")).isEqualTo(1);
    });
    TraceSpans.eachChildWithinDuration(root);
  }
}
