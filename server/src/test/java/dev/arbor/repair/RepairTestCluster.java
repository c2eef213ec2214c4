package dev.arbor.repair;

import dev.arbor.api.admin.v1.BuildTreesRequest;
import dev.arbor.api.admin.v1.ShardBuildResult;
import dev.arbor.api.admin.v1.TreeAdminServiceGrpc;
import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.api.repair.v1.RepairAdminServiceGrpc;
import dev.arbor.api.repair.v1.RepairProgress;
import dev.arbor.api.repair.v1.RunRepairRequest;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.EmbeddedNodeRegistry;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.repair.handoff.HandOffSettings;
import dev.arbor.server.DataNodeServer;
import dev.arbor.server.RepairConfig;
import dev.arbor.server.ServerConfig;
import dev.arbor.transport.ChannelFactory;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Data nodes in one test JVM, each a real {@link DataNodeServer} (own data directory, Lucene
 * shards, gRPC port on loopback) sharing embedded metadata and membership: the repair stream and
 * gossip run over real gRPC between them. Records are written to a chosen node through its
 * internal {@code DataNodeService.Write}, so a test decides exactly which replica missed what.
 */
final class RepairTestCluster implements AutoCloseable {
  final EmbeddedMetadataStore metadata;
  final EmbeddedNodeRegistry registry = new EmbeddedNodeRegistry();
  final Map<String, DataNodeServer> nodes = new HashMap<>();
  private final Map<String, ManagedChannel> channels = new HashMap<>();
  private final Path dir;

  private final String schedule;
  private final Duration tombstoneGrace;
  private final Duration maxClockSkew;
  private final HandOffSettings handOff;

  RepairTestCluster(Path dir, int n) throws IOException {
    this(dir, n, "off");
  }

  /** @param schedule every node's {@code --repair-schedule} */
  RepairTestCluster(Path dir, int n, String schedule) throws IOException {
    this(dir, n, schedule, ServerConfig.DEFAULT_TOMBSTONE_GRACE);
  }

  /** @param tombstoneGrace every node's {@code --tombstone-grace} */
  RepairTestCluster(Path dir, int n, String schedule, Duration tombstoneGrace) throws IOException {
    this(dir, n, schedule, tombstoneGrace, RepairConfig.DEFAULT_MAX_CLOCK_SKEW, HandOffSettings.DEFAULTS);
  }

  /** @param maxClockSkew every node's {@code --max-clock-skew}; @param handOff how orphaned copies are handed off */
  RepairTestCluster(Path dir, int n, String schedule, Duration tombstoneGrace, Duration maxClockSkew,
      HandOffSettings handOff) throws IOException {
    this.maxClockSkew = maxClockSkew;
    this.handOff = handOff;
    this.dir = dir;
    this.schedule = schedule;
    this.tombstoneGrace = tombstoneGrace;
    metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
    for (int i = 1; i <= n; i++) {
      start("n" + i);
    }
  }

  DataNodeServer start(String id) throws IOException {
    ServerConfig cfg = ServerConfig.defaults(dir.resolve(id)).withHost("127.0.0.1").withPorts(0, 0)
        .withRepair(new RepairConfig(schedule, Duration.ofMinutes(2), Duration.ofMinutes(1), Duration.ofHours(1),
            Duration.ofDays(3)).withMaxClockSkew(maxClockSkew).withHandOff(handOff)).withTombstoneGrace(tombstoneGrace);
    DataNodeServer s = DataNodeServer.start(id, cfg, metadata, registry, "127.0.0.1", Duration.ofMinutes(5));
    nodes.put(id, s);
    return s;
  }

  /** The data directory of a node (kept across {@link #stop} and {@link #start}). */
  Path dataDir(String id) {
    return dir.resolve(id);
  }

  void stop(String id) {
    DataNodeServer s = nodes.remove(id);
    ManagedChannel admin = channels.remove("admin:" + id);
    if (admin != null) {
      admin.shutdownNow();
    }
    ManagedChannel c = channels.remove(id);
    if (c != null) {
      c.shutdownNow();
    }
    s.close();
  }

  void group(String name, int shards, int replicas) {
    metadata.createGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName(name))
        .setCatalog(Catalog.CATALOG_PROPERTY)
        .setResourceOpts(ResourceOpts.newBuilder().setShardNum(shards).setReplicas(replicas)).build());
  }

  /** A channel to the node's internal listener (what peers call). */
  ManagedChannel channel(String id) {
    return channels.computeIfAbsent(id, k -> ChannelFactory.plaintext()
        .open("127.0.0.1:" + nodes.get(k).internalPort(), 64 << 20));
  }

  /** A channel to the node's admin listener (repair runs, tree builds). */
  ManagedChannel adminChannel(String id) {
    return channels.computeIfAbsent("admin:" + id, k -> ChannelFactory.plaintext()
        .open("127.0.0.1:" + nodes.get(id).grpcPort(), 64 << 20));
  }

  static int shardOf(String group, String id, int shards) {
    return ShardRouter.shardOf(new EntityKey(group, "t", id), shards);
  }

  /** A record of property group/t/id at a revision; deleteTime 0 = live. */
  static PropertyRecord record(String group, String id, long rev, long deleteTime, String value) {
    EntityKey key = new EntityKey(group, "t", id);
    byte[] source = Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(group).setName("t").setModRevision(rev).setCreateRevision(1))
        .setId(id)
        .addTags(Tag.newBuilder().setKey("v").setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(value))))
        .build().toByteArray();
    PropertyRecord live = PropertyRecord.live(key, rev, 1, source);
    return deleteTime == 0 ? live : live.tombstone(deleteTime);
  }

  /** Writes records to one node (each stored if it beats the node's copy). */
  int write(String node, int shards, Collection<PropertyRecord> records) {
    WriteRequest.Builder w = WriteRequest.newBuilder();
    for (PropertyRecord r : records) {
      w.addProperties(StoredProperties.toProto(r.key().group(), ShardRouter.shardOf(r.key(), shards), r));
    }
    return DataNodeServiceGrpc.newBlockingStub(channel(node)).withDeadlineAfter(60, TimeUnit.SECONDS)
        .write(w.build()).getStored();
  }

  /** A node's latest copy of each key it holds (tombstones included), by entity. */
  Map<String, StoredProperty> read(String node, String group, int shards, Collection<String> ids) {
    ReadRequest.Builder r = ReadRequest.newBuilder();
    for (String id : ids) {
      r.addKeys(Key.newBuilder().setGroup(group).setShard(shardOf(group, id, shards))
          .setEntity(new EntityKey(group, "t", id).entity()));
    }
    Map<String, StoredProperty> out = new HashMap<>();
    for (StoredProperty p : DataNodeServiceGrpc.newBlockingStub(channel(node)).withDeadlineAfter(60, TimeUnit.SECONDS)
        .read(r.build()).getPropertiesList()) {
      out.put(EntityKey.parse(p.getEntity()).id(), p);
    }
    return out;
  }

  /** The node's tree of (group, shard), built now: root hex and leaf count. */
  ShardBuildResult tree(String node, String group, int shard) {
    // A rebuild requested by the last session may be running (BUSY): poll, bounded, until ours runs.
    return org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
        .until(() -> TreeAdminServiceGrpc.newBlockingStub(adminChannel(node)).withDeadlineAfter(60, TimeUnit.SECONDS)
            .buildTrees(BuildTreesRequest.newBuilder().setGroup(group).setShard(shard).build()).getResults(0),
            r -> !r.getOutcome().equals("BUSY"));
  }

  /** Starts a round on {@code origin} and returns every progress event until its outcome. */
  List<RepairProgress> repair(String origin, String group, int shard) {
    List<RepairProgress> out = new ArrayList<>();
    RepairAdminServiceGrpc.newBlockingStub(adminChannel(origin)).withDeadlineAfter(120, TimeUnit.SECONDS)
        .runRepair(RunRepairRequest.newBuilder().setGroup(group).setShard(shard).build())
        .forEachRemaining(out::add);
    return out;
  }

  static RepairProgress outcome(List<RepairProgress> events) {
    return events.stream().filter(RepairProgress::hasOutcome).reduce((a, b) -> b).orElseThrow();
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
    for (String id : List.copyOf(nodes.keySet())) {
      nodes.remove(id).close();
    }
    metadata.close();
  }
}
