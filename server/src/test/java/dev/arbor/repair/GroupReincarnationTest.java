package dev.arbor.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.QueryShardsRequest;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.api.cluster.v1.WriteResponse;
import dev.arbor.api.repair.v1.RepairAdminServiceGrpc;
import dev.arbor.api.repair.v1.RepairProgress;
import dev.arbor.api.repair.v1.RunRepairRequest;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.EmbeddedNodeRegistry;
import dev.arbor.metadata.MetadataEvent;
import dev.arbor.metadata.MetadataGroupIncarnations;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.etcd.EtcdMetadataStore;
import dev.arbor.metadata.etcd.EtcdProcess;
import dev.arbor.property.EntityKey;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.HybridClock;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.server.DataNodeServer;
import dev.arbor.server.RepairConfig;
import dev.arbor.server.ServerConfig;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.StoreEvents;
import dev.arbor.transport.ChannelFactory;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A group deleted and re-created under the same name is another group: a data node that missed
 * the deletion (it was down, or never got the event) must not serve or repair the old group's
 * properties into the new one. Real data nodes (Lucene, gRPC on loopback); metadata in a real etcd
 * where the node restarts.
 */
class GroupReincarnationTest {
  private static final String G = "g";
  private static final int SHARDS = 2;

  @TempDir Path dir;

  @Test
  void nodeDownWhileItsGroupIsDeletedAndRecreatedServesAndRepairsNothingOfTheOldGroup() throws Exception {
    long seed = System.nanoTime();
    System.out.println("GroupReincarnationTest seed " + seed);
    Random rnd = new Random(seed);
    try (EtcdProcess etcd = EtcdProcess.start(dir.resolve("etcd"))) {
      String prefix = "/arbor-test/reincarnation-" + seed + "/";
      EmbeddedNodeRegistry registry = new EmbeddedNodeRegistry();
      try (MetadataStore liaison = etcd(etcd, prefix)) {
        createGroup(liaison);
        Nodes nodes = new Nodes(etcd, prefix, registry);
        try (nodes) {
          nodes.start("n1");
          nodes.start("n2");
          List<String> oldIds = ids("old", 20 + rnd.nextInt(20), rnd);
          Optional<GroupIncarnation> first = liaison.incarnation(G);
          assertThat(first).isPresent();
          for (String n : List.of("n1", "n2")) {
            assertThat(nodes.write(n, records(oldIds, rnd), first)).allMatch(o -> o == WriteOutcome.WRITE_OUTCOME_STORED);
          }

          nodes.stop("n1");
          liaison.deleteGroup(G);
          createGroup(liaison);
          Optional<GroupIncarnation> second = liaison.incarnation(G);
          assertThat(second).isPresent().isNotEqualTo(first);
          // n2 saw the deletion and dropped its copy; it takes the new group's writes.
          await().atMost(Duration.ofSeconds(10)).until(() -> nodes.read("n2", oldIds).isEmpty());
          List<String> newIds = ids("new", 5 + rnd.nextInt(10), rnd);
          assertThat(nodes.write("n2", records(newIds, rnd), second)).allMatch(o -> o == WriteOutcome.WRITE_OUTCOME_STORED);

          nodes.start("n1");
          // Served: neither a point read nor a query finds the old group's properties.
          assertThat(nodes.read("n1", oldIds)).isEmpty();
          assertThat(nodes.query("n1")).isEmpty();
          // Repaired: a round over every shard brings the new group's properties to n1, and none
          // of the old group's to n2.
          for (int s = 0; s < SHARDS; s++) {
            assertThat(nodes.repair("n1", s)).as("shard %d", s).isEqualTo("COMPLETED");
          }
          assertThat(nodes.read("n2", oldIds)).isEmpty();
          assertThat(nodes.read("n1", newIds)).containsOnlyKeys(newIds);
          assertThat(nodes.query("n1")).containsExactlyInAnyOrderElementsOf(newIds);
          // Written by the old incarnation's liaison: refused by both nodes.
          for (String n : List.of("n1", "n2")) {
            assertThat(nodes.write(n, records(ids("late", 3, rnd), rnd), first))
                .allMatch(o -> o == WriteOutcome.WRITE_OUTCOME_REJECTED);
          }
          nodes.stop("n1");
          // Its store: only the new group's data, under the new incarnation.
          try (PropertyStore store = PropertyStore.open(dir.resolve("n1"),
              new MetadataGroupIncarnations(liaison), new StoreEvents())) {
            assertThat(store.incarnation(G)).isEqualTo(second);
            for (String id : oldIds) {
              assertThat(store.latest(G, shardOf(id), new EntityKey(G, "t", id))).as(id).isNull();
            }
            assertThat(store.shardsOf(G).stream().mapToInt(sh -> sh.numDocs()).sum()).isEqualTo(newIds.size());
          }
        }
      }
    }
  }

  @Test
  void nodeThatMissesTheDeletionButSeesTheNewGroupCreatedDropsTheOldData() throws Exception {
    long seed = System.nanoTime();
    System.out.println("GroupReincarnationTest seed " + seed);
    Random rnd = new Random(seed);
    try (EmbeddedMetadataStore shared = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system())) {
      createGroup(shared);
      EmbeddedNodeRegistry registry = new EmbeddedNodeRegistry();
      // The node's view of metadata loses every GROUP_DELETED event (as a node whose watch was
      // down through the deletion, or an etcd re-list, would).
      MetadataStore missesDeletes = new ListenerFilter(shared, e -> e.type() != MetadataEvent.Type.GROUP_DELETED);
      DataNodeServer node = DataNodeServer.start("n1", config("n1"), missesDeletes, registry, "127.0.0.1",
          Duration.ofMinutes(5));
      try (Nodes nodes = new Nodes(null, null, registry)) {
        nodes.adopt("n1", node);
        List<String> oldIds = ids("old", 10 + rnd.nextInt(20), rnd);
        nodes.write("n1", records(oldIds, rnd), shared.incarnation(G));
        assertThat(nodes.read("n1", oldIds)).hasSize(oldIds.size());

        shared.deleteGroup(G);
        createGroup(shared);
        await().atMost(Duration.ofSeconds(10)).until(() -> nodes.read("n1", oldIds).isEmpty());
        assertThat(nodes.query("n1")).isEmpty();
        List<String> newIds = ids("new", 5, rnd);
        assertThat(nodes.write("n1", records(newIds, rnd), shared.incarnation(G)))
            .allMatch(o -> o == WriteOutcome.WRITE_OUTCOME_STORED);
        assertThat(nodes.query("n1")).containsExactlyInAnyOrderElementsOf(newIds);
      }
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** The group and its schema {@code t} (tag {@code v}). */
  private static void createGroup(MetadataStore m) {
    m.createGroup(group());
    m.createSchema(dev.arbor.api.banyandb.database.v1.Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName("t"))
        .addTags(dev.arbor.api.banyandb.database.v1.TagSpec.newBuilder().setName("v")
            .setType(dev.arbor.api.banyandb.database.v1.TagType.TAG_TYPE_STRING))
        .build());
  }

  private static Group group() {
    return Group.newBuilder().setMetadata(Metadata.newBuilder().setName(G)).setCatalog(Catalog.CATALOG_PROPERTY)
        .setResourceOpts(ResourceOpts.newBuilder().setShardNum(SHARDS).setReplicas(1)).build();
  }

  private static MetadataStore etcd(EtcdProcess etcd, String prefix) {
    return EtcdMetadataStore.connect(List.of(etcd.clientUri()), prefix, HybridClock.system(), Duration.ofSeconds(5));
  }

  private ServerConfig config(String id) {
    return ServerConfig.defaults(dir.resolve(id)).withHost("127.0.0.1").withPorts(0, 0)
        .withRepair(new RepairConfig("off", Duration.ofMinutes(2), Duration.ofMinutes(1), Duration.ofHours(1),
            Duration.ofDays(3)));
  }

  private static List<String> ids(String prefix, int n, Random rnd) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(prefix + "-" + Long.toHexString(rnd.nextLong()));
    }
    return out;
  }

  private static List<PropertyRecord> records(List<String> ids, Random rnd) {
    List<PropertyRecord> out = new ArrayList<>();
    for (String id : ids) {
      out.add(RepairTestCluster.record(G, id, 1_000 + rnd.nextInt(1_000), 0, "v" + rnd.nextInt()));
    }
    return out;
  }

  private static int shardOf(String id) {
    return ShardRouter.shardOf(new EntityKey(G, "t", id), SHARDS);
  }

  /** Data nodes of one test, each with its own metadata connection when on etcd. */
  private final class Nodes implements AutoCloseable {
    private final EtcdProcess etcd;
    private final String prefix;
    private final EmbeddedNodeRegistry registry;
    private final Map<String, DataNodeServer> servers = new java.util.HashMap<>();
    private final Map<String, MetadataStore> metadata = new java.util.HashMap<>();
    private final Map<String, ManagedChannel> channels = new java.util.HashMap<>();

    Nodes(EtcdProcess etcd, String prefix, EmbeddedNodeRegistry registry) {
      this.etcd = etcd;
      this.prefix = prefix;
      this.registry = registry;
    }

    void start(String id) throws IOException {
      MetadataStore m = etcd(etcd, prefix);
      metadata.put(id, m);
      servers.put(id, DataNodeServer.start(id, config(id), m, registry, "127.0.0.1", Duration.ofMinutes(5)));
    }

    void adopt(String id, DataNodeServer server) {
      servers.put(id, server);
    }

    void stop(String id) {
      ManagedChannel admin = channels.remove("admin:" + id);
      if (admin != null) {
        admin.shutdownNow();
      }
      ManagedChannel c = channels.remove(id);
      if (c != null) {
        c.shutdownNow();
      }
      servers.remove(id).close();
      MetadataStore m = metadata.remove(id);
      if (m != null) {
        m.close();
      }
    }

    /** A channel to the node's internal listener (what peers call). */
    ManagedChannel channel(String id) {
      return channels.computeIfAbsent(id, k -> ChannelFactory.plaintext()
          .open("127.0.0.1:" + servers.get(k).internalPort(), 64 << 20));
    }

    /** A channel to the node's admin listener (repair runs, tree builds). */
    ManagedChannel adminChannel(String id) {
      return channels.computeIfAbsent("admin:" + id, k -> ChannelFactory.plaintext()
          .open("127.0.0.1:" + servers.get(id).grpcPort(), 64 << 20));
    }

    List<WriteOutcome> write(String node, List<PropertyRecord> records, Optional<GroupIncarnation> incarnation) {
      WriteRequest.Builder w = WriteRequest.newBuilder();
      for (PropertyRecord r : records) {
        w.addProperties(StoredProperties.toProto(G, shardOf(r.key().id()), r, incarnation));
      }
      WriteResponse resp = DataNodeServiceGrpc.newBlockingStub(channel(node)).withDeadlineAfter(30, TimeUnit.SECONDS)
          .write(w.build());
      return resp.getOutcomesList();
    }

    /** The node's copies of these ids, by id. */
    Map<String, StoredProperty> read(String node, List<String> ids) {
      ReadRequest.Builder r = ReadRequest.newBuilder();
      for (String id : ids) {
        r.addKeys(Key.newBuilder().setGroup(G).setShard(shardOf(id)).setEntity(new EntityKey(G, "t", id).entity()));
      }
      return DataNodeServiceGrpc.newBlockingStub(channel(node)).withDeadlineAfter(30, TimeUnit.SECONDS)
          .read(r.build()).getPropertiesList().stream()
          .collect(Collectors.toMap(p -> EntityKey.parse(p.getEntity()).id(), p -> p));
    }

    /** Ids of every live property of the group the node returns to a query. */
    List<String> query(String node) {
      return DataNodeServiceGrpc.newBlockingStub(channel(node)).withDeadlineAfter(30, TimeUnit.SECONDS)
          .queryShards(QueryShardsRequest.newBuilder()
              .setQuery(QueryRequest.newBuilder().addGroups(G).setName("t").setLimit(10_000)).build())
          .getPropertiesList().stream().map(p -> EntityKey.parse(p.getEntity()).id()).toList();
    }

    /** Runs a repair round of (G, shard) from {@code origin}; its final status. */
    String repair(String origin, int shard) {
      List<RepairProgress> out = new ArrayList<>();
      RepairAdminServiceGrpc.newBlockingStub(adminChannel(origin)).withDeadlineAfter(120, TimeUnit.SECONDS)
          .runRepair(RunRepairRequest.newBuilder().setGroup(G).setShard(shard).build()).forEachRemaining(out::add);
      return out.stream().filter(RepairProgress::hasOutcome).reduce((a, b) -> b).orElseThrow()
          .getOutcome().getStatus();
    }

    @Override
    public void close() {
      for (String id : List.copyOf(servers.keySet())) {
        stop(id);
      }
    }
  }

  /** A metadata store whose listeners see only the events {@code keep} lets through. */
  private static final class ListenerFilter implements MetadataStore {
    private final MetadataStore delegate;
    private final java.util.function.Predicate<MetadataEvent> keep;

    ListenerFilter(MetadataStore delegate, java.util.function.Predicate<MetadataEvent> keep) {
      this.delegate = delegate;
      this.keep = keep;
    }

    @Override
    public Optional<Group> group(String name) {
      return delegate.group(name);
    }

    @Override
    public List<Group> groups() {
      return delegate.groups();
    }

    @Override
    public Optional<GroupIncarnation> incarnation(String name) {
      return delegate.incarnation(name);
    }

    @Override
    public Group createGroup(Group group) {
      return delegate.createGroup(group);
    }

    @Override
    public Group updateGroup(Group group) {
      return delegate.updateGroup(group);
    }

    @Override
    public void deleteGroup(String name) {
      delegate.deleteGroup(name);
    }

    @Override
    public Optional<dev.arbor.api.banyandb.database.v1.Property> schema(String group, String name) {
      return delegate.schema(group, name);
    }

    @Override
    public List<dev.arbor.api.banyandb.database.v1.Property> schemas(String group) {
      return delegate.schemas(group);
    }

    @Override
    public dev.arbor.api.banyandb.database.v1.Property createSchema(dev.arbor.api.banyandb.database.v1.Property s) {
      return delegate.createSchema(s);
    }

    @Override
    public dev.arbor.api.banyandb.database.v1.Property updateSchema(dev.arbor.api.banyandb.database.v1.Property s) {
      return delegate.updateSchema(s);
    }

    @Override
    public void deleteSchema(String group, String name) {
      delegate.deleteSchema(group, name);
    }

    @Override
    public void addListener(Consumer<MetadataEvent> listener) {
      delegate.addListener(e -> {
        if (keep.test(e)) {
          listener.accept(e);
        }
      });
    }

    @Override
    public void close() {}
  }
}
