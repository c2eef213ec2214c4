package dev.arbor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.ShardWrite;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A standalone node has no replica to reconcile with: its tombstones go after the grace alone. */
class StandalonePurgeTest {
  @TempDir Path dir;

  @Test
  void standaloneStoragePurgesTombstonesOnTheGraceAlone() throws Exception {
    HybridClock clock = HybridClock.system();
    ServerConfig cfg = ServerConfig.defaults(dir).withTombstoneGrace(Duration.ofSeconds(1));
    try (EmbeddedMetadataStore metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), clock)) {
      metadata.createGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName("g"))
          .setCatalog(Catalog.CATALOG_PROPERTY)
          .setResourceOpts(ResourceOpts.newBuilder().setShardNum(1).setReplicas(0)).build());
      EntityKey deleted = new EntityKey("g", "t", "deleted");
      EntityKey live = new EntityKey("g", "t", "live");
      byte[] source = Property.newBuilder().setMetadata(Metadata.newBuilder().setGroup("g").setName("t")
          .setModRevision(10).setCreateRevision(1)).setId("x").build().toByteArray();
      try (dev.arbor.runtime.NodeRuntime runtime = dev.arbor.runtime.NodeRuntime.system();
          StorageNode s = StorageNode.open(runtime, cfg, metadata, clock, new SimpleMeterRegistry())) {
        s.store().applyIfNewer(List.of(
            new ShardWrite("g", 0, PropertyRecord.live(deleted, 10, 1, source).tombstone(clock.next())),
            new ShardWrite("g", 0, PropertyRecord.live(live, 10, 1, source))));
        s.start(s.graceOnly());
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100))
            .until(() -> s.store().latest("g", 0, deleted) == null);
        assertThat(s.store().latest("g", 0, live)).isNotNull();
      }
    }
  }
}
