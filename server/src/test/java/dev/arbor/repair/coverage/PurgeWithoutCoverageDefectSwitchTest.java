package dev.arbor.repair.coverage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.cluster.DataNode;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
import dev.arbor.property.HybridClock;
import dev.arbor.storage.PurgeCutoff;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Defect#PURGE_WITHOUT_COVERAGE} brings back the purge on delete time alone: a shard of a
 * replicated group that no repair round has covered (the state {@code TombstonePurgeCoverageTest}
 * starts from, a replica down during the delete) keeps every tombstone with
 * {@link DefectSwitches#NONE}, and purges those older than the grace with the switch on.
 */
class PurgeWithoutCoverageDefectSwitchTest {
  private static final Duration GRACE = Duration.ofMinutes(5);
  private static final long NOW = Duration.ofDays(1).toNanos();

  @TempDir Path dir;

  private long cutoffOfAnUncoveredReplicatedShard(DefectSwitches defects) throws Exception {
    try (EmbeddedMetadataStore metadata = EmbeddedMetadataStore.open(dir.resolve("meta-" + defects.on().size()),
        HybridClock.system())) {
      metadata.createGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName("g"))
          .setCatalog(Catalog.CATALOG_PROPERTY).setResourceOpts(ResourceOpts.newBuilder().setShardNum(2).setReplicas(2))
          .build());
      List<DataNode> nodes = List.of(DataNode.of("n1", "127.0.0.1:1"), DataNode.of("n2", "127.0.0.1:2"),
          DataNode.of("n3", "127.0.0.1:3"));
      ReplicaRings rings = new ReplicaRings(metadata, () -> nodes);
      WatermarkStore none = WatermarkStore.open(dir.resolve("watermarks-" + defects.on().size() + ".txt"));
      return new CoveragePurgeCutoff(rings, none, () -> NOW, GRACE, Duration.ofSeconds(1), defects)
          .cutoffNanos("g", 0);
    }
  }

  @Test
  void purgeWithoutCoverage_anUncoveredReplicatedShardPurgesOnTheGraceAlone() throws Exception {
    assertThat(cutoffOfAnUncoveredReplicatedShard(DefectSwitches.of(Defect.PURGE_WITHOUT_COVERAGE)))
        .isEqualTo(NOW - GRACE.toNanos());
    assertThat(cutoffOfAnUncoveredReplicatedShard(DefectSwitches.NONE)).isEqualTo(PurgeCutoff.KEEP_ALL);
  }
}
