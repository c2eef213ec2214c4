package dev.arbor.liaison;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

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
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.banyandb.property.v1.QueryResponse;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.DataNodes;
import dev.arbor.cluster.WriteConsistency;
import dev.arbor.datanode.DataNodeGrpcService;
import dev.arbor.datanode.ResponseBudget;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.MetadataGroupIncarnations;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.LastWriteWins;
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
import io.grpc.ForwardingServerCallListener;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The liaison's replicated path over three real data nodes (real stores, real gRPC on loopback):
 * placement, write consistency with a node down, read repair of the full record (also after a
 * projected query), and deletes reaching a node that missed them.
 */
class ReplicatedApiTest {
  private static final String G = "ui";
  private static final int SHARDS = 2;
  /** Small enough that a few dozen properties of a kilobyte take the nodes several pages. */
  private static final int NODE_BUDGET = 8 << 10;

  @TempDir Path dir;
  private EmbeddedMetadataStore metadata;
  private final List<Node> nodes = new ArrayList<>();
  private DataNodes dataNodes;
  private ReplicatedApi api;
  private Server liaison;
  private ManagedChannel channel;
  private final AtomicReference<WriteConsistency> consistency = new AtomicReference<>(WriteConsistency.ONE);

  /** One data node: its store outlives restarts of its gRPC server. */
  private final class Node {
    final DataNode id;
    final PropertyStore store;
    final DataNodeGrpcService service;
    final Faults faults = new Faults();
    Server server;

    Node(String name, int port) throws Exception {
      id = DataNode.of(name, "127.0.0.1:" + port);
      store = PropertyStore.open(dir.resolve(name), new MetadataGroupIncarnations(metadata), new StoreEvents());
      SchemaLookup lookup = new SchemaLookup(metadata);
      service = new DataNodeGrpcService(lookup, store, new QueryPlanner(lookup, store),
            new IncarnationGate(store, new MetadataGroupIncarnations(metadata), Duration.ofSeconds(2)),
            new ResponseBudget(NODE_BUDGET));
      start();
    }

    void start() throws Exception {
      int port = Integer.parseInt(id.grpcAddress().substring(id.grpcAddress().lastIndexOf(':') + 1));
      server = BareServers.start("127.0.0.1", port, ServerInterceptors.intercept(service, faults));
    }

    void stop() throws Exception {
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    PropertyRecord latest(String id) {
      EntityKey k = new EntityKey(G, "t", id);
      return store.latest(G, ShardRouter.shardOf(k, SHARDS), k);
    }

    /** Stores a record straight into this node, as another liaison's write would land. */
    void storeDirectly(PropertyRecord r) {
      store.applyIfNewer(List.of(new ShardWrite(G, ShardRouter.shardOf(r.key(), SHARDS), r)));
    }
  }

  /**
   * Faults on a node's incoming calls, in front of the real service: reads it drops (a pre-read
   * that misses this node) and an action run before each Write reaches the service (another
   * writer landing between the liaison's pre-read and its write).
   */
  private static final class Faults implements ServerInterceptor {
    final AtomicInteger readsToDrop = new AtomicInteger();
    volatile Consumer<WriteRequest> beforeWrite = w -> {};
    /** Calls that reached this node, and the QueryShards among them. */
    final AtomicInteger received = new AtomicInteger();
    final AtomicInteger queries = new AtomicInteger();
    /** While set, every call waits for it before the service sees it (a node that hangs). */
    volatile CountDownLatch hold;

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, io.grpc.Metadata headers, ServerCallHandler<Q, R> next) {
      received.incrementAndGet();
      if (call.getMethodDescriptor().getFullMethodName().equals(DataNodeServiceGrpc.getQueryShardsMethod().getFullMethodName())) {
        queries.incrementAndGet();
      }
      CountDownLatch held = hold;
      if (held != null) {
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
          @Override
          public void onHalfClose() {
            try {
              held.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            super.onHalfClose();
          }
        };
      }
      String method = call.getMethodDescriptor().getFullMethodName();
      if (method.equals(DataNodeServiceGrpc.getReadMethod().getFullMethodName()) && readsToDrop.getAndDecrement() > 0) {
        call.close(Status.UNAVAILABLE.withDescription("read dropped by the test"), new io.grpc.Metadata());
        return new ServerCall.Listener<>() {};
      }
      ServerCall.Listener<Q> listener = next.startCall(call, headers);
      if (!method.equals(DataNodeServiceGrpc.getWriteMethod().getFullMethodName())) {
        return listener;
      }
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
        @Override
        public void onMessage(Q message) {
          beforeWrite.accept((WriteRequest) message);
          super.onMessage(message);
        }
      };
    }
  }

  @BeforeEach
  void start() throws Exception {
    metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
    for (int i = 1; i <= 3; i++) {
      nodes.add(new Node("d" + i, freePort()));
    }
    dataNodes = new DataNodes(Duration.ofSeconds(2));
    dataNodes.update(nodes.stream().map(n -> n.id).toList());
    api = new ReplicatedApi(metadata, dataNodes, HybridClock.system(), RequestLimits.DEFAULTS, "test",
        consistency::get, 128);
    liaison = BareServers.start("127.0.0.1", 0, api.services().toArray(BindableService[]::new));
    channel = ChannelFactory.plaintext().open("127.0.0.1:" + liaison.getPort(), MessageLimits.MAX_MESSAGE_BYTES);
    GroupRegistryServiceGrpc.newBlockingStub(channel).create(GroupRegistryServiceCreateRequest.newBuilder()
        .setGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName(G)).setCatalog(Catalog.CATALOG_PROPERTY)
            .setResourceOpts(ResourceOpts.newBuilder().setShardNum(SHARDS).setReplicas(1)))
        .build());
    PropertyRegistryServiceGrpc.newBlockingStub(channel).create(PropertyRegistryServiceCreateRequest.newBuilder()
        .setProperty(dev.arbor.api.banyandb.database.v1.Property.newBuilder()
            .setMetadata(Metadata.newBuilder().setGroup(G).setName("t"))
            .addTags(TagSpec.newBuilder().setName("title").setType(TagType.TAG_TYPE_STRING))
            .addTags(TagSpec.newBuilder().setName("body").setType(TagType.TAG_TYPE_STRING)))
        .build());
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    liaison.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    api.close();
    dataNodes.close();
    for (Node n : nodes) {
      n.stop();
      n.store.close();
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private PropertyServiceGrpc.PropertyServiceBlockingStub props() {
    return PropertyServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  private static Tag tag(String k, String v) {
    return Tag.newBuilder().setKey(k).setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(v))).build();
  }

  private void apply(String id, ApplyRequest.Strategy strategy, Tag... tags) {
    props().apply(ApplyRequest.newBuilder().setStrategy(strategy).setProperty(Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName("t")).setId(id).addAllTags(List.of(tags))).build());
  }

  private List<Node> replicasOf(String id) {
    int shard = ShardRouter.shardOf(new EntityKey(G, "t", id), SHARDS);
    List<DataNode> placed = dataNodes.replicas(G, shard, 2);
    return nodes.stream().filter(n -> placed.contains(n.id)).toList();
  }

  @Test
  void eachPropertyLivesOnExactlyItsTwoPlacementNodes() {
    for (int i = 0; i < 30; i++) {
      apply("p" + i, ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "t" + i));
    }
    for (int i = 0; i < 30; i++) {
      String id = "p" + i;
      List<Node> reps = replicasOf(id);
      assertThat(reps).hasSize(2);
      for (Node n : nodes) {
        PropertyRecord r = n.latest(id);
        if (reps.contains(n)) {
          assertThat(r).as("%s on %s", id, n.id.id()).isNotNull();
        } else {
          assertThat(r).as("%s must not be on %s", id, n.id.id()).isNull();
        }
      }
    }
    assertThat(props().query(QueryRequest.newBuilder().addGroups(G).setName("t").setLimit(100).build())
        .getPropertiesCount()).isEqualTo(30);
  }

  @Test
  void consistencyLevelsWithAReplicaDownAndReadRepairAfterItReturns() throws Exception {
    apply("home", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "v1"), tag("body", "b1"));
    Node down = replicasOf("home").get(1);
    down.stop();

    apply("home", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "v2"));
    consistency.set(WriteConsistency.ALL);
    assertThatThrownBy(() -> apply("home", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "v3")))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getDescription()).contains(down.id.id().toString());
        });
    consistency.set(WriteConsistency.ONE);
    assertThat(down.latest("home").modRevision()).isLessThan(replicasOf("home").get(0).latest("home").modRevision());

    down.start();
    // A projected query must still repair the lagging replica with the WHOLE record.
    List<Property> got = props().query(QueryRequest.newBuilder().addGroups(G).setName("t").addIds("home")
        .addTagProjection("title").build()).getPropertiesList();
    assertThat(got).hasSize(1);
    assertThat(got.get(0).getTagsList()).extracting(Tag::getKey).containsExactly("title");
    Node healthy = replicasOf("home").stream().filter(n -> n != down).findFirst().orElseThrow();
    PropertyRecord winner = healthy.latest("home");
    // Read repair runs on queries: keep querying until the lagging replica holds the winner.
    QueryRequest projected = QueryRequest.newBuilder().addGroups(G).setName("t").addIds("home").addTagProjection("title").build();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      props().query(projected);
      assertThat(down.latest("home")).isEqualTo(winner);
    });
    Property repaired = Property.parseFrom(down.latest("home").source());
    assertThat(repaired.getTagsList()).extracting(t -> t.getKey() + "=" + t.getValue().getStr().getValue())
        .containsExactly("title=v3", "body=b1");
  }

  @Test
  void aRequestChoosesItsConsistencyWithAHeader() throws Exception {
    apply("h", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "v1"));
    Node down = replicasOf("h").get(0);
    down.stop();
    io.grpc.Metadata all = new io.grpc.Metadata();
    all.put(io.grpc.Metadata.Key.of(ConsistencyHeader.NAME, io.grpc.Metadata.ASCII_STRING_MARSHALLER), "all");
    var strict = props().withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(all));
    ApplyRequest req = ApplyRequest.newBuilder().setProperty(Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName("t")).setId("h").addTags(tag("title", "v2"))).build();
    assertThatThrownBy(() -> strict.apply(req))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getDescription()).contains("consistency all", down.id.id().toString());
        });
    assertThat(props().apply(req).getCreated()).as("the default (one) still succeeds").isFalse();
    io.grpc.Metadata bad = new io.grpc.Metadata();
    bad.put(io.grpc.Metadata.Key.of(ConsistencyHeader.NAME, io.grpc.Metadata.ASCII_STRING_MARSHALLER), "most");
    assertThatThrownBy(() -> props().withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(bad)).apply(req))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains(ConsistencyHeader.NAME);
        });
    down.start();
  }

  @Test
  void aDeleteMissedByADownReplicaNeverComesBack() throws Exception {
    apply("gone", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "x"));
    Node down = replicasOf("gone").get(0);
    down.stop();
    assertThat(props().delete(DeleteRequest.newBuilder().setGroup(G).setName("t").setId("gone").build()).getDeleted())
        .isTrue();
    down.start();
    assertThat(down.latest("gone").deleted()).as("the restarted replica still holds the live copy").isFalse();
    assertThat(props().query(QueryRequest.newBuilder().addGroups(G).setName("t").build()).getPropertiesList())
        .as("the newer tombstone on the other replica hides it").isEmpty();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      assertThat(props().query(QueryRequest.newBuilder().addGroups(G).setName("t").build()).getPropertiesList()).isEmpty();
      assertThat(down.latest("gone").deleted()).isTrue();
    });
  }

  @Test
  void aRequestEveryNodeRejectsIsTheCallersError() {
    QueryRequest bad = QueryRequest.newBuilder().addGroups(G).setName("t")
        .setCriteria(dev.arbor.api.banyandb.model.v1.Criteria.newBuilder().setCondition(
            dev.arbor.api.banyandb.model.v1.Condition.newBuilder().setName("nope")
                .setOp(dev.arbor.api.banyandb.model.v1.Condition.BinaryOp.BINARY_OP_EQ)
                .setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue("x")))))
        .build();
    assertThatThrownBy(() -> props().query(bad))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("criteria", "nope");
        });
  }

  @Test
  void aQueryStillAnswersWhileOneCopyOfEachShardIsDown() throws Exception {
    for (int i = 0; i < 10; i++) {
      apply("q" + i, ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "t" + i));
    }
    nodes.get(0).stop();
    assertThat(props().query(QueryRequest.newBuilder().addGroups(G).setName("t").build()).getPropertiesCount())
        .isEqualTo(10);
  }
  // ---------------------------------------------------------------------------------------------
  // Deletes are new versions; acknowledgements count what each replica holds.

  private static final long HOUR_NS = 3_600_000_000_000L;

  private boolean delete(String id) {
    return props().delete(DeleteRequest.newBuilder().setGroup(G).setName("t").setId(id).build()).getDeleted();
  }

  /** Waits until this liaison's channel to the node works again (after a restart). */
  private void awaitReachable(Node n) {
    await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
        .until(() -> dataNodes.client(n.id.id()).read(List.of(), dataNodes.callDeadline()).get() != null);
  }

  /** Another version of {@code base}'s key at {@code rev}, as a liaison with its clock ahead writes it. */
  private static PropertyRecord versionAt(PropertyRecord base, long rev, Tag... tags) {
    Property p = Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName("t").setCreateRevision(base.createRevision()).setModRevision(rev))
        .setId(base.key().id()).addAllTags(List.of(tags))
        .setUpdatedAt(dev.arbor.property.ProtoTime.ofNanos(rev)).build();
    return PropertyRecord.live(base.key(), rev, base.createRevision(), p.toByteArray());
  }

  private static PropertyRecord lww(PropertyRecord a, PropertyRecord b) {
    return LastWriteWins.beats(a, b) ? a : b;
  }

  private static List<String> tags(PropertyRecord r) throws Exception {
    return Property.parseFrom(r.source()).getTagsList().stream()
        .map(t -> t.getKey() + "=" + t.getValue().getStr().getValue()).toList();
  }

  @Test
  void aQueryByIdsAsksOnlyTheReplicasOfTheShardsTheIdsRouteTo() {
    String inShard0 = idInShard(0);
    String inShard1 = idInShard(1);
    apply(inShard0, ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "zero"));
    apply(inShard1, ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "one"));
    nodes.forEach(n -> n.faults.queries.set(0));

    QueryResponse one = props().query(QueryRequest.newBuilder().addGroups(G).setName("t").addIds(inShard0).build());
    assertThat(one.getPropertiesList()).extracting(Property::getId).containsExactly(inShard0);
    // Two copies of shard 0, three nodes: the node without a copy is not asked.
    assertThat(nodes.stream().mapToInt(n -> n.faults.queries.get()).sum()).isEqualTo(2);
    List<String> holders0 = dataNodes.replicas(G, 0, 2).stream().map(d -> d.id().value()).toList();
    assertThat(nodes.stream().filter(n -> n.faults.queries.get() > 0).map(n -> n.id.id().value()))
        .containsExactlyInAnyOrderElementsOf(holders0);

    nodes.forEach(n -> n.faults.queries.set(0));
    QueryResponse both = props().query(QueryRequest.newBuilder().addGroups(G).setName("t")
        .addIds(inShard0).addIds(inShard1).build());
    assertThat(both.getPropertiesList()).extracting(Property::getId).containsExactlyInAnyOrder(inShard0, inShard1);
    java.util.Set<String> holders = new java.util.HashSet<>(holders0);
    dataNodes.replicas(G, 1, 2).forEach(d -> holders.add(d.id().value()));
    assertThat(nodes.stream().filter(n -> n.faults.queries.get() > 0).map(n -> n.id.id().value()))
        .containsExactlyInAnyOrderElementsOf(holders);
  }

  private static String idInShard(int shard) {
    for (int i = 0; ; i++) {
      if (ShardRouter.shardOf(new EntityKey(G, "t", "id-" + i), SHARDS) == shard) {
        return "id-" + i;
      }
    }
  }

  @Test
  void aTombstoneIsANewVersionAboveTheOneItDeletes() {
    apply("d", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "x"));
    long liveRev = replicasOf("d").get(0).latest("d").modRevision();

    assertThat(delete("d")).isTrue();

    for (Node n : replicasOf("d")) {
      PropertyRecord t = n.latest("d");
      assertThat(t.deleted()).as("on %s", n.id.id()).isTrue();
      assertThat(t.modRevision()).as("tombstone revision on %s", n.id.id()).isGreaterThan(liveRev);
    }
  }

  @Test
  void aDeleteAcknowledgedWhileTheOnlyHolderOfTheLatestVersionWasDownWinsWhenItReturns() throws Exception {
    apply("k", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "v1"));
    Node a = replicasOf("k").get(0);
    Node b = replicasOf("k").get(1);
    b.stop();
    apply("k", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "v2")); // consistency one: a alone
    PropertyRecord v2 = a.latest("k");
    assertThat(b.latest("k").modRevision()).isLessThan(v2.modRevision());

    b.start();
    a.stop();
    awaitReachable(b);
    assertThat(delete("k")).as("acknowledged by b alone, whose pre-read saw only v1").isTrue();
    a.start();

    PropertyRecord tomb = b.latest("k");
    assertThat(tomb.deleted()).isTrue();
    assertThat(tomb.modRevision()).as("above v2, which the delete never read").isGreaterThan(v2.modRevision());
    assertThat(lww(a.latest("k"), b.latest("k"))).as("last-write-wins over both copies").isEqualTo(tomb);
    // Queries merge the same way and push the winner to a.
    awaitReachable(a);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      assertThat(props().query(QueryRequest.newBuilder().addGroups(G).setName("t").build()).getPropertiesList()).isEmpty();
      assertThat(a.latest("k")).isEqualTo(tomb);
    });
  }

  /**
   * The key's only version is on a, acknowledged while b was down; a is down during the delete and
   * b, which never saw the key, is the only replica that answers its pre-read. "Nothing to delete"
   * would write no tombstone and the version would come back once a returns: the delete writes a
   * fresh tombstone, above every version this liaison issued.
   */
  @Test
  void aDeleteWhosePreReadFindsNothingWhileAReplicaIsDownStillWinsOverTheVersionItMissed() throws Exception {
    Node a = replicasOf("gone").get(0);
    Node b = replicasOf("gone").get(1);
    b.stop();
    apply("gone", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "v1")); // consistency one: a alone
    PropertyRecord v1 = a.latest("gone");
    assertThat(b.latest("gone")).isNull();

    b.start();
    a.stop();
    awaitReachable(b);
    delete("gone"); // acknowledged by b
    a.start();
    PropertyRecord tomb = b.latest("gone");
    assertThat(tomb.deleted()).as("a tombstone although b held nothing").isTrue();
    assertThat(tomb.modRevision()).as("above v1, which the delete never read").isGreaterThan(v1.modRevision());
    assertThat(lww(a.latest("gone"), tomb)).isEqualTo(tomb);
    assertThat(delete("never")).as("a key no replica holds, every replica answering: nothing to delete").isFalse();
  }

  /** As above, with an older tombstone of the key on b: "already deleted" is as unsure as "absent". */
  @Test
  void aDeleteWhosePreReadFindsOnlyAnOlderTombstoneWhileAReplicaIsDownStillWins() throws Exception {
    apply("again", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "v1"));
    assertThat(delete("again")).isTrue();
    Node a = replicasOf("again").get(0);
    Node b = replicasOf("again").get(1);
    b.stop();
    apply("again", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "v2")); // consistency one: a alone
    PropertyRecord v2 = a.latest("again");
    assertThat(b.latest("again").deleted()).isTrue();

    b.start();
    a.stop();
    awaitReachable(b);
    delete("again"); // acknowledged by b
    a.start();
    PropertyRecord tomb = b.latest("again");
    assertThat(tomb.modRevision()).as("a fresh tombstone above v2").isGreaterThan(v2.modRevision());
    assertThat(lww(a.latest("again"), tomb)).isEqualTo(tomb);
  }

  @Test
  void anApplyAboveAVersionItsPreReadMissedRetriesAboveIt() throws Exception {
    apply("n", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "v1"), tag("body", "b1"));
    Node x = replicasOf("n").get(0);
    Node y = replicasOf("n").get(1);
    PropertyRecord ahead = versionAt(y.latest("n"), y.latest("n").modRevision() + HOUR_NS,
        tag("title", "other"), tag("body", "b-other"));
    y.storeDirectly(ahead);
    y.faults.readsToDrop.set(1);

    apply("n", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "v2"));

    PropertyRecord onX = x.latest("n");
    assertThat(y.latest("n")).as("both replicas hold the same version").isEqualTo(onX);
    assertThat(onX.modRevision()).isGreaterThan(ahead.modRevision());
    assertThat(tags(onX)).as("merged onto the newer version").containsExactly("title=v2", "body=b-other");
  }

  @Test
  void aDeleteAboveAVersionItsPreReadMissedRetriesAboveIt() {
    apply("m", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "v1"));
    Node x = replicasOf("m").get(0);
    Node y = replicasOf("m").get(1);
    PropertyRecord ahead = versionAt(y.latest("m"), y.latest("m").modRevision() + HOUR_NS, tag("title", "other"));
    y.storeDirectly(ahead);
    y.faults.readsToDrop.set(1);

    assertThat(delete("m")).isTrue();

    PropertyRecord onX = x.latest("m");
    assertThat(onX.deleted()).isTrue();
    assertThat(y.latest("m")).as("both replicas hold the same tombstone").isEqualTo(onX);
    assertThat(onX.modRevision()).isGreaterThan(ahead.modRevision());
  }

  @Test
  void aReplicaThatKeepsANewerVersionFailsTheCallOnceRetriesRunOut() {
    apply("r", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "v1"));
    apply("s", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "v1"));
    // A writer that always lands a newer version between this liaison's read and its write.
    // Only an interceptor in front of each node's real service can win every race on purpose.
    for (Node n : nodes) {
      n.faults.beforeWrite = req -> {
        for (StoredProperty p : req.getPropertiesList()) {
          PropertyRecord current = n.latest(EntityKey.parse(p.getEntity()).id());
          n.storeDirectly(versionAt(current, p.getModRevision() + HOUR_NS, tag("title", "racer")));
        }
      };
    }

    assertThatThrownBy(() -> apply("r", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "v2")))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ABORTED);
          assertThat(e.getStatus().getDescription())
              .contains("apply of " + G + "/t/r", "after 3 attempts", "newer", replicasOf("r").get(0).id.id().toString());
        });
    assertThatThrownBy(() -> delete("s"))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ABORTED);
          assertThat(e.getStatus().getDescription())
              .contains("delete of " + G + "/t/s", "after 3 attempts", replicasOf("s").get(1).id.id().toString());
        });
  }

  // ---------------------------------------------------------------------------------------------
  // Bounded replies and a bounded fan-out.

  @Test
  void aResultLargerThanTheNodesBudgetIsPagedAndComplete() {
    String pad = "x".repeat(1000);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      ids.add(String.format("b%02d", i));
      apply(ids.get(i), ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "t" + (i % 9)), tag("body", pad));
    }
    // One property alone larger than a node's whole budget still comes through.
    apply("huge", ApplyRequest.Strategy.STRATEGY_MERGE, tag("title", "t9"), tag("body", "y".repeat(3 * NODE_BUDGET)));
    ids.add("huge");

    nodes.forEach(n -> n.faults.queries.set(0));
    List<Property> byKey = props().query(QueryRequest.newBuilder().addGroups(G).setName("t").setLimit(1000).build())
        .getPropertiesList();
    // Each node holds ~27 KiB of them: several pages each.
    assertThat(nodes).allSatisfy(n -> assertThat(n.faults.queries.get()).isGreaterThanOrEqualTo(4));
    assertThat(byKey).extracting(Property::getId).containsExactlyElementsOf(ids);
    assertThat(byKey.get(40).getTagsList()).extracting(t -> t.getValue().getStr().getValue().length())
        .as("the whole record, not a page's worth").containsExactly(2, 3 * NODE_BUDGET);

    List<Property> byTitle = props().query(QueryRequest.newBuilder().addGroups(G).setName("t").setLimit(1000)
        .setOrderBy(dev.arbor.api.banyandb.property.v1.QueryOrder.newBuilder().setTagName("title")
            .setSort(dev.arbor.api.banyandb.model.v1.Sort.SORT_DESC)).build()).getPropertiesList();
    List<String> expected = ids.stream().sorted(java.util.Comparator
        .comparing((String id) -> id.equals("huge") ? 9 : Integer.parseInt(id.substring(1)) % 9).reversed()
        .thenComparing(java.util.Comparator.naturalOrder())).toList();
    assertThat(byTitle).extracting(Property::getId).containsExactlyElementsOf(expected);

    List<Property> first15 = props().query(QueryRequest.newBuilder().addGroups(G).setName("t").setLimit(15).build())
        .getPropertiesList();
    assertThat(first15).extracting(Property::getId).containsExactlyElementsOf(ids.subList(0, 15));
  }

  @Test
  void aSaturatedFanOutIsRefusedAtOnceWithoutGrowing() throws Exception {
    // A second liaison over the same nodes: two calls at once plus two queued. Its deadline is
    // long so that the calls held at the nodes do not time out while the test looks.
    DataNodes slowNodes = new DataNodes(Duration.ofSeconds(20));
    slowNodes.update(nodes.stream().map(n -> n.id).toList());
    ReplicatedApi small = new ReplicatedApi(metadata, slowNodes, HybridClock.system(), RequestLimits.DEFAULTS, "test",
        consistency::get, 16, new ReplicaCallLimits(2, 2));
    Server server = BareServers.start("127.0.0.1", 0, small.services().toArray(BindableService[]::new));
    ManagedChannel ch = ChannelFactory.plaintext()
        .open("127.0.0.1:" + server.getPort(), MessageLimits.MAX_MESSAGE_BYTES);
    java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(8);
    CountDownLatch release = new CountDownLatch(1);
    try {
      PropertyServiceGrpc.PropertyServiceBlockingStub stub =
          PropertyServiceGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS);
      // Other ids: applies of one id wait for each other in the liaison before any call.
      java.util.function.IntFunction<ApplyRequest> req = i -> ApplyRequest.newBuilder().setProperty(Property.newBuilder()
          .setMetadata(Metadata.newBuilder().setGroup(G).setName("t")).setId("busy" + i).addTags(tag("title", "x"))).build();
      // Nodes that hang: real data node services behind an interceptor that holds every call,
      // which no real fault reproduces on demand.
      nodes.forEach(n -> n.faults.hold = release);
      nodes.forEach(n -> n.faults.received.set(0));
      // Each apply first reads both replicas: two calls. The first one's are sent and held ...
      var first = callers.submit(() -> stub.apply(req.apply(1)));
      await().atMost(Duration.ofSeconds(10))
          .until(() -> nodes.stream().mapToInt(n -> n.faults.received.get()).sum() == 2);
      // ... the second one's wait in the queue.
      var second = callers.submit(() -> stub.apply(req.apply(2)));
      await().atMost(Duration.ofSeconds(10)).until(() -> small.replicaCallsPending() == 4);

      long start = System.nanoTime();
      assertThatThrownBy(() -> stub.apply(req.apply(3))).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(e.getStatus().getDescription()).contains("--replica-call-threads", "--replica-call-queue");
      });
      assertThat(Duration.ofNanos(System.nanoTime() - start)).as("refused at once").isLessThan(Duration.ofSeconds(2));

      List<java.util.concurrent.Future<Status.Code>> more = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        more.add(callers.submit(() -> {
          try {
            stub.query(QueryRequest.newBuilder().addGroups(G).setName("t").build());
            return Status.Code.OK;
          } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
          }
        }));
      }
      for (var f : more) {
        assertThat(f.get(10, TimeUnit.SECONDS)).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      }
      assertThat(small.replicaCallsPending()).as("nothing queued beyond the bound").isEqualTo(4);
      assertThat(small.replicaCallsRefused()).isEqualTo(21);
      assertThat(nodes.stream().mapToInt(n -> n.faults.received.get()).sum()).as("nothing more was sent").isEqualTo(2);

      release.countDown();
      nodes.forEach(n -> n.faults.hold = null);
      assertThat(first.get(20, TimeUnit.SECONDS).getCreated()).isTrue();
      assertThat(second.get(20, TimeUnit.SECONDS).getCreated()).isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> small.replicaCallsPending() == 0);
    } finally {
      release.countDown();
      nodes.forEach(n -> n.faults.hold = null);
      callers.shutdownNow();
      ch.shutdownNow();
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      small.close();
      slowNodes.close();
    }
  }

  @Test
  void aCallThatWaitedInTheQueuePastItsDeadlineIsNotSent() throws Exception {
    Duration timeout = Duration.ofMillis(300);
    DataNodes shortNodes = new DataNodes(timeout);
    shortNodes.update(nodes.stream().map(n -> n.id).toList());
    Node target = nodes.get(0);
    java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(2);
    CountDownLatch busy = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (ReplicaCalls calls = new ReplicaCalls(shortNodes, new ReplicaCallLimits(1, 1))) {
      target.faults.received.set(0);
      // The only thread is taken by a call that sends nothing and waits for the test.
      var blocker = callers.submit(() -> calls.onEach(List.of(target.id), (c, d) -> {
        busy.countDown();
        try {
          return java.util.concurrent.CompletableFuture.completedFuture(release.await(30, TimeUnit.SECONDS));
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      }));
      assertThat(busy.await(10, TimeUnit.SECONDS)).isTrue();
      long queuedAt = System.nanoTime();
      var queued = callers.submit(() -> calls.onEach(List.of(target.id), (c, d) -> c.read(List.of(), d)));
      await().atMost(Duration.ofSeconds(10)).until(() -> calls.pending() == 2);
      // Its deadline runs from here, while it waits for the thread.
      await().atMost(Duration.ofSeconds(10)).until(() -> System.nanoTime() - queuedAt > 2 * timeout.toNanos());
      release.countDown();

      assertThat(blocker.get(10, TimeUnit.SECONDS)).singleElement().satisfies(a -> assertThat(a.ok()).isTrue());
      assertThat(queued.get(10, TimeUnit.SECONDS)).singleElement().satisfies(a -> {
        assertThat(a.failure()).isInstanceOf(dev.arbor.errors.UnavailableException.class)
            .hasMessageContaining("not sent").hasMessageContaining(target.id.id().toString());
      });
      assertThat(target.faults.received.get()).as("the expired call never reached the node").isZero();
      assertThat(calls.expired()).isEqualTo(1);
      // A call made now, with the thread free, is sent.
      assertThat(calls.onEach(List.of(target.id), (c, d) -> c.read(List.of(), d))).singleElement()
          .satisfies(a -> assertThat(a.ok()).isTrue());
      assertThat(target.faults.received.get()).isEqualTo(1);
    } finally {
      release.countDown();
      callers.shutdownNow();
      shortNodes.close();
    }
  }
}
