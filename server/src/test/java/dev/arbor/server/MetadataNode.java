package dev.arbor.server;

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
import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.metadata.EmbeddedNodeRegistry;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.etcd.EtcdMetadataStore;
import dev.arbor.metadata.etcd.EtcdProcess;
import dev.arbor.property.EntityKey;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.HybridClock;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.MessageLimits;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * One in-process data node on a real etcd, with its own metadata connection (as a data node
 * process has), written and read through its internal gRPC API. Group {@value #G}, schema
 * {@code t}.
 */
final class MetadataNode implements AutoCloseable {
  static final String G = "g";
  static final int SHARDS = 2;

  private final Path dir;
  private final EtcdProcess etcd;
  private final String prefix;
  private final EmbeddedNodeRegistry registry = new EmbeddedNodeRegistry();
  private MetadataStore metadata;
  private DataNodeServer server;
  private ManagedChannel channel;

  MetadataNode(Path dir, EtcdProcess etcd, String prefix) {
    this.dir = dir;
    this.etcd = etcd;
    this.prefix = prefix;
  }

  static MetadataStore connect(EtcdProcess etcd, String prefix) {
    return EtcdMetadataStore.connect(List.of(etcd.clientUri()), prefix, HybridClock.system(), Duration.ofSeconds(5));
  }

  /** The group and its schema {@code t} (tag {@code v}). */
  static void createGroup(MetadataStore m) {
    m.createGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName(G)).setCatalog(Catalog.CATALOG_PROPERTY)
        .setResourceOpts(ResourceOpts.newBuilder().setShardNum(SHARDS).setReplicas(1)).build());
    m.createSchema(dev.arbor.api.banyandb.database.v1.Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName("t"))
        .addTags(dev.arbor.api.banyandb.database.v1.TagSpec.newBuilder().setName("v")
            .setType(dev.arbor.api.banyandb.database.v1.TagType.TAG_TYPE_STRING))
        .build());
  }

  Path dir() {
    return dir;
  }

  MetadataStore metadata() {
    return metadata;
  }

  void start() throws IOException {
    metadata = connect(etcd, prefix);
    ServerConfig config = ServerConfig.defaults(dir).withHost("127.0.0.1").withPorts(0, 0)
        .withRepair(new RepairConfig("off", Duration.ofMinutes(2), Duration.ofMinutes(1), Duration.ofHours(1),
            Duration.ofDays(3)));
    server = DataNodeServer.start("n1", config, metadata, registry, "127.0.0.1", Duration.ofMinutes(5));
    channel = ChannelFactory.plaintext().open("127.0.0.1:" + server.internalPort(), MessageLimits.MAX_MESSAGE_BYTES);
  }

  void stop() {
    if (channel != null) {
      channel.shutdownNow();
      channel = null;
    }
    if (server != null) {
      server.close();
      server = null;
    }
    if (metadata != null) {
      metadata.close();
      metadata = null;
    }
  }

  int httpPort() {
    return server.httpPort();
  }

  /** Writes properties {@code ids} (value = id) claiming the incarnation; returns the outcomes. */
  List<WriteOutcome> write(List<String> ids, Optional<GroupIncarnation> incarnation) {
    WriteRequest.Builder w = WriteRequest.newBuilder();
    for (String id : ids) {
      w.addProperties(StoredProperties.toProto(G, shardOf(id), record(id), incarnation));
    }
    return DataNodeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS).write(w.build())
        .getOutcomesList();
  }

  /** Which of {@code ids} the node serves. */
  Set<String> read(List<String> ids) {
    ReadRequest.Builder r = ReadRequest.newBuilder();
    for (String id : ids) {
      r.addKeys(Key.newBuilder().setGroup(G).setShard(shardOf(id)).setEntity(new EntityKey(G, "t", id).entity()));
    }
    return DataNodeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS).read(r.build())
        .getPropertiesList().stream().map(p -> EntityKey.parse(p.getEntity()).id()).collect(Collectors.toSet());
  }

  static int shardOf(String id) {
    return ShardRouter.shardOf(new EntityKey(G, "t", id), SHARDS);
  }

  private static PropertyRecord record(String id) {
    byte[] source = Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName("t").setModRevision(1_000).setCreateRevision(1))
        .setId(id)
        .addTags(Tag.newBuilder().setKey("v").setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(id))))
        .build().toByteArray();
    return PropertyRecord.live(new EntityKey(G, "t", id), 1_000, 1, source);
  }

  @Override
  public void close() {
    stop();
  }
}
