package dev.arbor.liaison;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Condition;
import dev.arbor.api.banyandb.model.v1.Criteria;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.DataNodes;
import dev.arbor.cluster.WriteConsistency;
import dev.arbor.datanode.DataNodeGrpcService;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.MetadataGroupIncarnations;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
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
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The liaison's defect switches bring their defects back, each on the scenario of its issue-10
 * regression test in {@code ReplicatedApiTest} (which keeps asserting the fixed outcome with
 * {@link DefectSwitches#NONE}); each scenario here runs with the switch on and with NONE. Three
 * real data nodes (real stores, real gRPC on loopback), two copies, consistency {@code one}; a
 * node is made unreachable or made to drop a read by an interceptor in front of its real service.
 */
class LiaisonDefectSwitchesTest {
  private static final String G = "ui";
  private static final int SHARDS = 2;
  private static final long HOUR_NS = 3_600_000_000_000L;

  @TempDir Path dir;

  /** Faults in front of a node's real service: every call refused while down; reads dropped. */
  private static final class Faults implements ServerInterceptor {
    volatile boolean down;
    final AtomicInteger readsToDrop = new AtomicInteger();

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, io.grpc.Metadata headers, ServerCallHandler<Q, R> next) {
      boolean read = call.getMethodDescriptor().getFullMethodName()
          .equals(DataNodeServiceGrpc.getReadMethod().getFullMethodName());
      if (down || (read && readsToDrop.getAndDecrement() > 0)) {
        call.close(Status.UNAVAILABLE.withDescription("unreachable (test fault)"), new io.grpc.Metadata());
        return new ServerCall.Listener<>() {};
      }
      return next.startCall(call, headers);
    }
  }

  private record Node(DataNode id, PropertyStore store, Faults faults, Server server) {
    PropertyRecord latest(String id) {
      EntityKey k = new EntityKey(G, "t", id);
      return store.latest(G, ShardRouter.shardOf(k, SHARDS), k);
    }

    void storeDirectly(PropertyRecord r) {
      store.applyIfNewer(List.of(new ShardWrite(G, ShardRouter.shardOf(r.key(), SHARDS), r)));
    }
  }

  /** Three data nodes and a liaison whose replicated API runs with {@code defects}. */
  private final class Cluster implements AutoCloseable {
    final EmbeddedMetadataStore metadata;
    final List<Node> nodes = new ArrayList<>();
    final DataNodes dataNodes;
    final ReplicatedApi api;
    final Server liaison;
    final ManagedChannel channel;

    Cluster(String name, DefectSwitches defects) throws Exception {
      Path root = dir.resolve(name);
      metadata = EmbeddedMetadataStore.open(root.resolve("meta"), HybridClock.system());
      metadata.createGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName(G))
          .setCatalog(Catalog.CATALOG_PROPERTY)
          .setResourceOpts(ResourceOpts.newBuilder().setShardNum(SHARDS).setReplicas(1)).build());
      metadata.createSchema(dev.arbor.api.banyandb.database.v1.Property.newBuilder()
          .setMetadata(Metadata.newBuilder().setGroup(G).setName("t"))
          .addTags(TagSpec.newBuilder().setName("title").setType(TagType.TAG_TYPE_STRING)).build());
      SchemaLookup lookup = new SchemaLookup(metadata);
      for (int i = 1; i <= 3; i++) {
        PropertyStore store = PropertyStore.open(root.resolve("d" + i), new MetadataGroupIncarnations(metadata),
            new StoreEvents());
        Faults faults = new Faults();
        DataNodeGrpcService service = new DataNodeGrpcService(lookup, store, new QueryPlanner(lookup, store),
            new IncarnationGate(store, new MetadataGroupIncarnations(metadata), Duration.ofSeconds(2)));
        Server server = BareServers.start("127.0.0.1", 0, ServerInterceptors.intercept(service, faults));
        nodes.add(new Node(DataNode.of("d" + i, "127.0.0.1:" + server.getPort()), store, faults, server));
      }
      dataNodes = new DataNodes(Duration.ofSeconds(2));
      dataNodes.update(nodes.stream().map(Node::id).toList());
      api = new ReplicatedApi(metadata, dataNodes, HybridClock.system(), RequestLimits.DEFAULTS, "test",
          () -> WriteConsistency.ONE, 128, ReplicaCallLimits.DEFAULTS, defects);
      liaison = BareServers.start("127.0.0.1", 0, api.services().toArray(BindableService[]::new));
      channel = ChannelFactory.plaintext().open("127.0.0.1:" + liaison.getPort(), MessageLimits.MAX_MESSAGE_BYTES);
    }

    PropertyServiceGrpc.PropertyServiceBlockingStub props() {
      return PropertyServiceGrpc.newBlockingStub(channel).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    void apply(String id, String title) {
      props().apply(ApplyRequest.newBuilder().setStrategy(ApplyRequest.Strategy.STRATEGY_MERGE)
          .setProperty(Property.newBuilder().setMetadata(Metadata.newBuilder().setGroup(G).setName("t")).setId(id)
              .addTags(tag(title))).build());
    }

    boolean delete(String id) {
      return props().delete(DeleteRequest.newBuilder().setGroup(G).setName("t").setId(id).build()).getDeleted();
    }

    List<Node> replicasOf(String id) {
      List<DataNode> placed = dataNodes.replicas(G, ShardRouter.shardOf(new EntityKey(G, "t", id), SHARDS), 2);
      return nodes.stream().filter(n -> placed.contains(n.id())).toList();
    }

    /** The last-write-wins winner over both copies: what repair and queries converge on. */
    PropertyRecord winner(String id) {
      List<Node> reps = replicasOf(id);
      PropertyRecord a = reps.get(0).latest(id);
      PropertyRecord b = reps.get(1).latest(id);
      return LastWriteWins.beats(a, b) ? a : b;
    }

    @Override
    public void close() throws Exception {
      channel.shutdownNow();
      liaison.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      api.close();
      dataNodes.close();
      for (Node n : nodes) {
        n.server().shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        n.store().close();
      }
      metadata.close();
    }
  }

  private static Tag tag(String title) {
    return Tag.newBuilder().setKey("title").setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(title)))
        .build();
  }

  /** Another version of {@code base}'s key at {@code rev}, as another liaison writes it. */
  private static PropertyRecord versionAt(PropertyRecord base, long rev, String title) {
    Property p = Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName("t").setCreateRevision(base.createRevision())
            .setModRevision(rev))
        .setId(base.key().id()).addTags(tag(title)).setUpdatedAt(dev.arbor.property.ProtoTime.ofNanos(rev)).build();
    return PropertyRecord.live(base.key(), rev, base.createRevision(), p.toByteArray());
  }

  // --- TOMBSTONE_KEEPS_OLD_REVISION --------------------------------------------------------------

  /**
   * {@code aDeleteAcknowledgedWhileTheOnlyHolderOfTheLatestVersionWasDownWinsWhenItReturns}: v2
   * acknowledged by replica a alone; a unreachable during the delete, which b acknowledges. Returns
   * the winner over both copies once a is back.
   */
  private PropertyRecord afterDeleteWhileTheHolderOfV2WasDown(String name, DefectSwitches defects) throws Exception {
    try (Cluster c = new Cluster(name, defects)) {
      c.apply("k", "v1");
      Node a = c.replicasOf("k").get(0);
      Node b = c.replicasOf("k").get(1);
      b.faults().down = true;
      c.apply("k", "v2"); // consistency one: a alone
      b.faults().down = false;
      a.faults().down = true;
      assertThat(c.delete("k")).as("acknowledged by b, whose copy is v1").isTrue();
      a.faults().down = false;
      return c.winner("k");
    }
  }

  @Test
  void tombstoneKeepsOldRevision_anAcknowledgedDeleteIsUndoneByTheVersionItsPreReadMissed() throws Exception {
    PropertyRecord on = afterDeleteWhileTheHolderOfV2WasDown("on", DefectSwitches.of(Defect.TOMBSTONE_KEEPS_OLD_REVISION));
    assertThat(on.deleted()).as("switched on: v2 beats the tombstone stamped at v1's revision").isFalse();
    assertThat(afterDeleteWhileTheHolderOfV2WasDown("off", DefectSwitches.NONE).deleted()).isTrue();
  }

  // --- ACK_IGNORES_STORED -------------------------------------------------------------------------

  /**
   * {@code aDeleteAboveAVersionItsPreReadMissedRetriesAboveIt}: replica y holds a version an hour
   * ahead that the delete's pre-read misses (a dropped read), so y answers NOT_STORED_NEWER.
   */
  private PropertyRecord afterDeleteThatAReplicaDidNotStore(String name, DefectSwitches defects) throws Exception {
    try (Cluster c = new Cluster(name, defects)) {
      c.apply("m", "v1");
      Node y = c.replicasOf("m").get(1);
      y.storeDirectly(versionAt(y.latest("m"), y.latest("m").modRevision() + HOUR_NS, "other"));
      y.faults().readsToDrop.set(1);
      assertThat(c.delete("m")).isTrue();
      return c.winner("m");
    }
  }

  @Test
  void ackIgnoresStored_aDeleteAReplicaRefusedIsAcknowledgedAndThenUndone() throws Exception {
    PropertyRecord on = afterDeleteThatAReplicaDidNotStore("on", DefectSwitches.of(Defect.ACK_IGNORES_STORED));
    assertThat(on.deleted()).as("switched on: acked without re-read, the newer live copy wins").isFalse();
    assertThat(afterDeleteThatAReplicaDidNotStore("off", DefectSwitches.NONE).deleted())
        .as("fixed: re-read and written above it").isTrue();
  }

  // --- QUERY_NO_REFILL ----------------------------------------------------------------------------

  /**
   * A limited query whose top rows on each replica are stale copies the other replica's newer
   * versions disqualify; the true matches follow. (This is the fix's regression test too: the
   * switched-off run asserts the refilled answer.)
   */
  private List<String> limitedQueryOverStaleTopRows(String name, DefectSwitches defects) throws Exception {
    try (Cluster c = new Cluster(name, defects)) {
      List<String> ids = idsOfShard0();
      Node a = c.replicasOf(ids.get(0)).get(0);
      Node b = c.replicasOf(ids.get(0)).get(1);
      for (int i = 0; i < 9; i++) {
        PropertyRecord base = PropertyRecord.live(new EntityKey(G, "t", ids.get(i)), 1, 1, new byte[0]);
        PropertyRecord stale = versionAt(base, 10, "match");
        PropertyRecord newer = versionAt(base, 20, "changed");
        if (i < 3) {
          a.storeDirectly(stale);
          b.storeDirectly(newer);
        } else if (i < 6) {
          a.storeDirectly(newer);
          b.storeDirectly(stale);
        } else {
          a.storeDirectly(stale);
          b.storeDirectly(stale);
        }
      }
      QueryRequest q = QueryRequest.newBuilder().addGroups(G).setName("t").setLimit(3)
          .setCriteria(Criteria.newBuilder().setCondition(Condition.newBuilder().setName("title")
              .setOp(Condition.BinaryOp.BINARY_OP_EQ)
              .setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue("match")))))
          .build();
      return c.props().query(q).getPropertiesList().stream().map(Property::getId).toList();
    }
  }

  /** Nine ids of shard 0, in entity order. */
  private static List<String> idsOfShard0() {
    List<String> ids = new ArrayList<>();
    for (int i = 0; ids.size() < 9; i++) {
      String id = String.format("q%04d", i);
      if (ShardRouter.shardOf(new EntityKey(G, "t", id), SHARDS) == 0) {
        ids.add(id);
      }
    }
    return ids;
  }

  @Test
  void queryNoRefill_aLimitedQueryComesUpShortWhenEveryNodesTopRowsAreStale() throws Exception {
    assertThat(limitedQueryOverStaleTopRows("on", DefectSwitches.of(Defect.QUERY_NO_REFILL)))
        .as("switched on: one round, every candidate disqualified").isEmpty();
    assertThat(limitedQueryOverStaleTopRows("off", DefectSwitches.NONE)).isEqualTo(idsOfShard0().subList(6, 9));
  }
}
