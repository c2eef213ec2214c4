package dev.arbor.liaison;

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
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.StoredProperties;
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
import dev.arbor.transport.BareServers;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A real data node for liaison tests: embedded metadata holding one property group (schema
 * {@code n} with an int tag {@code v}), a real store on disk and the real data-node service on a
 * loopback gRPC port, optionally behind test interceptors.
 */
final class LoopbackDataNode implements AutoCloseable {
  final EmbeddedMetadataStore metadata;
  final PropertyStore store;
  final DataNode node;
  final Server server;

  private LoopbackDataNode(EmbeddedMetadataStore metadata, PropertyStore store, Server server, DataNode node) {
    this.metadata = metadata;
    this.store = store;
    this.server = server;
    this.node = node;
  }

  static LoopbackDataNode start(Path dir, String group, int shards, ServerInterceptor... interceptors)
      throws IOException {
    EmbeddedMetadataStore metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
    metadata.createGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName(group))
        .setCatalog(Catalog.CATALOG_PROPERTY).setResourceOpts(ResourceOpts.newBuilder().setShardNum(shards)).build());
    metadata.createSchema(dev.arbor.api.banyandb.database.v1.Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(group).setName("n"))
        .addTags(TagSpec.newBuilder().setName("v").setType(TagType.TAG_TYPE_INT)).build());
    PropertyStore store =
        PropertyStore.open(dir.resolve("node"), new MetadataGroupIncarnations(metadata), new StoreEvents());
    SchemaLookup lookup = new SchemaLookup(metadata);
    // No wait for groups the node has not heard of: a test's unknown group is unknown for good.
    DataNodeGrpcService service = new DataNodeGrpcService(lookup, store, new QueryPlanner(lookup, store),
        new IncarnationGate(store, new MetadataGroupIncarnations(metadata), Duration.ofSeconds(2)), Duration.ZERO);
    Server server = BareServers.start("127.0.0.1", 0, ServerInterceptors.intercept(service, interceptors));
    return new LoopbackDataNode(metadata, store, server, DataNode.of("d1", "127.0.0.1:" + server.getPort()));
  }

  /** A live record of schema {@code n} whose int tag {@code v} and revisions are {@code rev}. */
  static PropertyRecord record(String group, String id, long rev) {
    EntityKey key = new EntityKey(group, "n", id);
    Property p = Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(group).setName("n").setCreateRevision(rev).setModRevision(rev))
        .setId(id)
        .addTags(Tag.newBuilder().setKey("v").setValue(TagValue.newBuilder().setInt(Int.newBuilder().setValue(rev))))
        .build();
    return PropertyRecord.live(key, rev, rev, p.toByteArray());
  }

  /** {@code r} as the internal API carries it, in its shard of {@code shards}. */
  static StoredProperty proto(String group, int shards, PropertyRecord r) {
    return StoredProperties.toProto(group, ShardRouter.shardOf(r.key(), shards), r);
  }

  @Override
  public void close() throws Exception {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    store.close();
  }
}
