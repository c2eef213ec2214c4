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
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.LastWriteWins;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardWrite;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The standalone delete over a real store on disk: a tombstone is a new version. */
class PropertyDeleterTest {
  private static final String G = "g";
  private static final int SHARDS = 2;
  /** A wall clock far behind the stored revisions: they came from a clock that ran ahead. */
  private static final long WALL = 1_000;

  @TempDir Path dir;
  private PropertyStore store;
  private PropertyDeleter deleter;

  @BeforeEach
  void start() throws Exception {
    EmbeddedMetadataStore metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
    metadata.createGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName(G))
        .setCatalog(Catalog.CATALOG_PROPERTY).setResourceOpts(ResourceOpts.newBuilder().setShardNum(SHARDS)).build());
    metadata.createSchema(dev.arbor.api.banyandb.database.v1.Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName("n"))
        .addTags(TagSpec.newBuilder().setName("v").setType(TagType.TAG_TYPE_STRING)).build());
    store = PropertyStore.open(dir.resolve("data"), g -> true);
    deleter = new PropertyDeleter(new SchemaLookup(metadata), store, new HybridClock(() -> WALL));
  }

  @AfterEach
  void stop() throws Exception {
    store.close();
  }

  private PropertyRecord put(String id, long rev) {
    EntityKey k = new EntityKey(G, "n", id);
    Property p = Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName("n").setCreateRevision(rev).setModRevision(rev))
        .setId(id).build();
    PropertyRecord r = PropertyRecord.live(k, rev, rev, p.toByteArray());
    store.applyIfNewer(List.of(new ShardWrite(G, ShardRouter.shardOf(k, SHARDS), r)));
    return r;
  }

  private PropertyRecord latest(String id) {
    EntityKey k = new EntityKey(G, "n", id);
    return store.latest(G, ShardRouter.shardOf(k, SHARDS), k);
  }

  @Test
  void aDeleteByIdWritesATombstoneAboveTheLiveRevision() {
    PropertyRecord live = put("a", 5_000);

    assertThat(deleter.delete(DeleteRequest.newBuilder().setGroup(G).setName("n").setId("a").build()).getDeleted())
        .isTrue();

    PropertyRecord t = latest("a");
    assertThat(t.deleted()).isTrue();
    assertThat(t.modRevision()).as("a fresh revision, above the deleted one even with the wall clock behind it")
        .isGreaterThan(live.modRevision());
    assertThat(t.deleteTime()).isEqualTo(t.modRevision());
    assertThat(t.source()).isEqualTo(live.source());
    assertThat(LastWriteWins.beats(t, live)).isTrue();
  }

  @Test
  void aDeleteByNameWritesTombstonesAboveEveryLiveRevision() {
    PropertyRecord a = put("a", 7_000);
    PropertyRecord b = put("b", 9_000);

    assertThat(deleter.delete(DeleteRequest.newBuilder().setGroup(G).setName("n").build()).getDeleted()).isTrue();

    assertThat(latest("a").deleted()).isTrue();
    assertThat(latest("a").modRevision()).isGreaterThan(a.modRevision());
    assertThat(latest("b").deleted()).isTrue();
    assertThat(latest("b").modRevision()).isGreaterThan(b.modRevision());
  }
}
