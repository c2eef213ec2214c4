package dev.arbor.fuzz;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Int;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.Placement;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.EmbeddedNodeRegistry;
import dev.arbor.metadata.RegisteredNode;
import dev.arbor.property.EntityKey;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.HybridClock;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.server.DataNodeServer;
import dev.arbor.server.RepairConfig;
import dev.arbor.server.ServerConfig;
import dev.arbor.transport.ChannelFactory;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The node under fuzz: a real {@link DataNodeServer} ("n1": store, trees, repair stream, gossip,
 * coverage, metrics, as wired in production) on loopback, over embedded metadata and membership,
 * with a {@link StubPeer} registered as its second replica ("n2"). Group {@value #G} keeps two
 * copies in {@value #SHARDS} shards; schema {@value #NAME} has one int tag.
 */
final class RepairFuzzNode implements AutoCloseable {
  static final String SELF = "n1";
  static final String PEER = "n2";
  static final String G = "fz";
  static final String NAME = "n";
  static final int SHARDS = 4;
  static final int MAX_SESSIONS = 16;
  static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(1);
  /**
   * Short, so sessions of clients that stopped reading or vanished are ended within the run and
   * the campaign can check that their slots came back (production: 5 min).
   */
  static final Duration IDLE_TIMEOUT = Duration.ofSeconds(3);

  private final EmbeddedMetadataStore metadata;
  private final EmbeddedNodeRegistry registry = new EmbeddedNodeRegistry();
  private final StubPeer peer;
  private final DataNodeServer server;
  private final ManagedChannel channel;
  private final GroupIncarnation incarnation;

  RepairFuzzNode(Path dir) throws IOException {
    metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
    metadata.createGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName(G))
        .setCatalog(Catalog.CATALOG_PROPERTY)
        .setResourceOpts(ResourceOpts.newBuilder().setShardNum(SHARDS).setReplicas(1)).build());
    metadata.createSchema(dev.arbor.api.banyandb.database.v1.Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName(NAME))
        .addTags(TagSpec.newBuilder().setName("v").setType(TagType.TAG_TYPE_INT)).build());
    incarnation = metadata.incarnation(G).orElseThrow();
    peer = new StubPeer();
    registry.register(RegisteredNode.of(PEER, peer.address(), Set.of("data")), Duration.ofMinutes(10));
    ServerConfig cfg = ServerConfig.defaults(dir.resolve(SELF)).withHost("127.0.0.1").withPorts(0, 0)
        .withRepair(new RepairConfig("off", Duration.ofMinutes(2), Duration.ofMinutes(1), Duration.ofHours(1),
            Duration.ofDays(3), RepairConfig.DEFAULT_WORKERS, MAX_CLOCK_SKEW, MAX_SESSIONS, IDLE_TIMEOUT));
    server = DataNodeServer.start(SELF, cfg, metadata, registry, "127.0.0.1", Duration.ofMinutes(10));
    channel = ChannelFactory.plaintext().withInterceptors(Deadlines.PER_CALL)
        .open("127.0.0.1:" + server.internalPort(), 64 << 20);
  }

  ManagedChannel channel() {
    return channel;
  }

  DataNodeServer server() {
    return server;
  }

  StubPeer peer() {
    return peer;
  }

  GroupIncarnation incarnation() {
    return incarnation;
  }

  /** The shard's ring as every node computes it (placement order of the registered replicas). */
  static List<String> ring(int shard) {
    return Placement.of(List.of(DataNode.of(SELF, "a:1"), DataNode.of(PEER, "b:1"))).placeCapped(G, shard, 2)
        .stream().map(n -> n.id().value()).toList();
  }

  /** The Prometheus text of the node's {@code /metrics}. */
  String metrics() throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    return r.body();
  }

  /** Writes records through the internal Write (as a liaison would); returns how many were stored. */
  int write(Collection<PropertyRecord> records) {
    WriteRequest.Builder w = WriteRequest.newBuilder();
    for (PropertyRecord r : records) {
      w.addProperties(StoredProperties.toProto(G, shardOf(r.key()), r));
    }
    return DataNodeServiceGrpc.newBlockingStub(channel).write(w.build()).getStored();
  }

  /** The node's latest copy (tombstones included) of each key it holds. */
  List<StoredProperty> read(Collection<EntityKey> keys) {
    ReadRequest.Builder r = ReadRequest.newBuilder();
    for (EntityKey k : keys) {
      r.addKeys(Key.newBuilder().setGroup(G).setShard(shardOf(k)).setEntity(k.entity()));
    }
    return DataNodeServiceGrpc.newBlockingStub(channel).read(r.build()).getPropertiesList();
  }

  static int shardOf(EntityKey k) {
    return ShardRouter.shardOf(k, SHARDS);
  }

  static EntityKey key(String id) {
    return new EntityKey(G, NAME, id);
  }

  /** An id with {@code prefix} whose key routes to {@code shard}. */
  static String idIn(String prefix, int shard) {
    for (int i = 0; ; i++) {
      if (shardOf(key(prefix + i)) == shard) {
        return prefix + i;
      }
    }
  }

  /** A live version of {@code id} at {@code rev} with tag v = {@code v}. */
  static PropertyRecord live(String id, long rev, long v) {
    Property p = Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName(NAME).setCreateRevision(rev).setModRevision(rev))
        .setId(id)
        .addTags(Tag.newBuilder().setKey("v").setValue(TagValue.newBuilder().setInt(Int.newBuilder().setValue(v))))
        .build();
    return PropertyRecord.live(key(id), rev, rev, p.toByteArray());
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    server.close();
    peer.close();
    metadata.close();
  }
}
