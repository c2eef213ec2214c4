package dev.arbor.datanode;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.MetadataGroupIncarnations;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.RevisionBound;
import dev.arbor.property.ShardRouter;
import dev.arbor.query.QueryPlanner;
import dev.arbor.storage.CopyFence;
import dev.arbor.storage.IncarnationGate;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.StoreEvents;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.BareServers;
import dev.arbor.transport.MessageLimits;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Defect#FRESH_DELETE_CLOCK_UNCHECKED} brings back "the grace measured on two clocks": on
 * the scenario of {@code DataNodeGrpcServiceTest.aFreshDeleteStampedByAClockBehindIsRejectedButACopiedTombstoneIsNot}
 * (a data node with a one-minute skew bound; a liaison whose clock runs an hour behind stamps a
 * delete), the node stores the fresh tombstone, whose grace has then already run for an hour.
 */
class FreshDeleteDefectSwitchTest {
  private static final String G = "g";
  private static final int SHARDS = 2;

  @TempDir Path dir;

  private WriteOutcome freshDeleteFromAnHourBehind(String name, DefectSwitches defects) throws Exception {
    try (EmbeddedMetadataStore metadata = EmbeddedMetadataStore.open(dir.resolve(name).resolve("meta"),
        HybridClock.system())) {
      metadata.createGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName(G))
          .setCatalog(Catalog.CATALOG_PROPERTY).setResourceOpts(ResourceOpts.newBuilder().setShardNum(SHARDS)).build());
      metadata.createSchema(dev.arbor.api.banyandb.database.v1.Property.newBuilder()
          .setMetadata(Metadata.newBuilder().setGroup(G).setName("n"))
          .addTags(TagSpec.newBuilder().setName("v").setType(TagType.TAG_TYPE_INT)).build());
      long now = System.currentTimeMillis() * 1_000_000L;
      long hourAgo = now - Duration.ofHours(1).toNanos();
      try (PropertyStore store = PropertyStore.open(dir.resolve(name), new MetadataGroupIncarnations(metadata),
          new StoreEvents())) {
        SchemaLookup lookup = new SchemaLookup(metadata);
        Server server = BareServers.start("127.0.0.1", 0, new DataNodeGrpcService(lookup, store,
            new QueryPlanner(lookup, store),
            new IncarnationGate(store, new MetadataGroupIncarnations(metadata), Duration.ofSeconds(2)),
            RevisionBound.of(() -> now, Duration.ofMinutes(1)), CopyFence.NONE, Duration.ofSeconds(2),
            ResponseBudget.DEFAULT, defects));
        ManagedChannel ch = ChannelFactory.plaintext().open("127.0.0.1:" + server.getPort(),
            MessageLimits.MAX_MESSAGE_BYTES);
        try {
          EntityKey key = new EntityKey(G, "n", "behind");
          byte[] source = Property.newBuilder().setMetadata(Metadata.newBuilder().setGroup(G).setName("n")
              .setCreateRevision(hourAgo - 5).setModRevision(hourAgo - 5)).setId("behind").build().toByteArray();
          PropertyRecord tombstone = PropertyRecord.live(key, hourAgo - 5, hourAgo - 5, source).tombstoneAt(hourAgo, hourAgo);
          return DataNodeServiceGrpc.newBlockingStub(ch).write(WriteRequest.newBuilder()
              .addProperties(StoredProperties.toProto(G, ShardRouter.shardOf(key, SHARDS), tombstone))
              .setFresh(true).build()).getOutcomes(0);
        } finally {
          ch.shutdownNow();
          server.shutdownNow().awaitTermination();
        }
      }
    }
  }

  @Test
  void freshDeleteClockUnchecked_aDeleteStampedAnHourBehindIsStored() throws Exception {
    assertThat(freshDeleteFromAnHourBehind("on", DefectSwitches.of(Defect.FRESH_DELETE_CLOCK_UNCHECKED)))
        .isEqualTo(WriteOutcome.WRITE_OUTCOME_STORED);
    assertThat(freshDeleteFromAnHourBehind("off", DefectSwitches.NONE)).isEqualTo(WriteOutcome.WRITE_OUTCOME_REJECTED);
  }
}
