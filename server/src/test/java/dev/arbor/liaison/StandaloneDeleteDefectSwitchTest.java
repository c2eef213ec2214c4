package dev.arbor.liaison;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardWrite;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Defect#TOMBSTONE_KEEPS_OLD_REVISION} in the standalone delete: on the scenario of
 * {@code PropertyDeleterTest.aDeleteByIdWritesATombstoneAboveTheLiveRevision} (a stored revision
 * ahead of the wall clock), the tombstone keeps the live revision with the switch on and gets a
 * fresh one above it with {@link DefectSwitches#NONE}.
 */
class StandaloneDeleteDefectSwitchTest {
  private static final String G = "g";
  private static final int SHARDS = 2;
  private static final long WALL = 1_000;
  private static final long LIVE_REVISION = 5_000;

  @TempDir Path dir;

  private PropertyRecord tombstoneOf(String name, DefectSwitches defects) throws Exception {
    try (EmbeddedMetadataStore metadata = EmbeddedMetadataStore.open(dir.resolve(name).resolve("meta"),
        HybridClock.system());
        PropertyStore store = PropertyStore.open(dir.resolve(name).resolve("data"), g -> true)) {
      metadata.createGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName(G))
          .setCatalog(Catalog.CATALOG_PROPERTY).setResourceOpts(ResourceOpts.newBuilder().setShardNum(SHARDS)).build());
      metadata.createSchema(dev.arbor.api.banyandb.database.v1.Property.newBuilder()
          .setMetadata(Metadata.newBuilder().setGroup(G).setName("n"))
          .addTags(TagSpec.newBuilder().setName("v").setType(TagType.TAG_TYPE_STRING)).build());
      EntityKey k = new EntityKey(G, "n", "a");
      Property p = Property.newBuilder().setMetadata(Metadata.newBuilder().setGroup(G).setName("n")
          .setCreateRevision(LIVE_REVISION).setModRevision(LIVE_REVISION)).setId("a").build();
      store.applyIfNewer(List.of(new ShardWrite(G, ShardRouter.shardOf(k, SHARDS),
          PropertyRecord.live(k, LIVE_REVISION, LIVE_REVISION, p.toByteArray()))));
      PropertyDeleter deleter = new PropertyDeleter(new SchemaLookup(metadata), store, new HybridClock(() -> WALL),
          defects);
      assertThat(deleter.delete(DeleteRequest.newBuilder().setGroup(G).setName("n").setId("a").build()).getDeleted())
          .isTrue();
      return store.latest(G, ShardRouter.shardOf(k, SHARDS), k);
    }
  }

  @Test
  void tombstoneKeepsOldRevision_theStandaloneDeleteKeepsTheLiveRevision() throws Exception {
    PropertyRecord on = tombstoneOf("on", DefectSwitches.of(Defect.TOMBSTONE_KEEPS_OLD_REVISION));
    assertThat(on.deleted()).isTrue();
    assertThat(on.modRevision()).as("switched on: the deleted version's revision").isEqualTo(LIVE_REVISION);
    PropertyRecord off = tombstoneOf("off", DefectSwitches.NONE);
    assertThat(off.deleted()).isTrue();
    assertThat(off.modRevision()).isGreaterThan(LIVE_REVISION);
  }
}
