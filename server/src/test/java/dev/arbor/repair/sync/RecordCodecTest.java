package dev.arbor.repair.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.cluster.StoredProperties;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.RevisionBound;
import dev.arbor.property.ShardRouter;
import java.time.Duration;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

/** A record received in a repair session is checked before it can be stored. */
class RecordCodecTest {
  private static final long NOW = 1_800_000_000_000_000_000L;
  private static final RevisionBound MINUTE = RevisionBound.of(() -> NOW, Duration.ofMinutes(1));

  /** Canonical property bytes of {@code k} at {@code rev}. */
  private static byte[] source(EntityKey k, long rev) {
    return dev.arbor.api.banyandb.property.v1.Property.newBuilder()
        .setMetadata(dev.arbor.api.banyandb.common.v1.Metadata.newBuilder().setGroup(k.group()).setName(k.name())
            .setCreateRevision(NOW).setModRevision(rev))
        .setId(k.id())
        .addTags(dev.arbor.api.banyandb.model.v1.Tag.newBuilder().setKey("v").setValue(
            dev.arbor.api.banyandb.model.v1.TagValue.newBuilder().setStr(
                dev.arbor.api.banyandb.model.v1.Str.newBuilder().setValue("x"))))
        .build().toByteArray();
  }

  @Test
  void aRecordFromTheFarFutureIsRejectedWithTheReason() {
    EntityKey k = new EntityKey("g", "n", "x");
    int shard = ShardRouter.shardOf(k, 4);
    PropertyRecord near = PropertyRecord.live(k, NOW, NOW, source(k, NOW));
    long later = NOW + Duration.ofDays(1).toNanos();
    PropertyRecord ahead = PropertyRecord.live(k, later, NOW, source(k, later));
    assertThat(RecordCodec.check(StoredProperties.toProto("g", shard, near), "g", shard, 4, MINUTE).record())
        .isEqualTo(near);
    assertThatThrownBy(() -> RecordCodec.check(StoredProperties.toProto("g", shard, ahead), "g", shard, 4, MINUTE))
        .isInstanceOf(RecordCodec.RejectedRecordException.class)
        .hasMessageContaining("ahead of this node's clock");
  }

  @Test
  void aBoundedShardCheckKeepsItsShardCountsAndCarriesTheBound() {
    ShardCheck counts = group -> group.equals("g") ? OptionalInt.of(4) : OptionalInt.empty();
    ShardCheck bounded = counts.bounded(MINUTE);
    assertThat(bounded.shardNum("g")).hasValue(4);
    assertThat(bounded.refuse("h", 0)).contains("not known");
    assertThat(bounded.revisionBound()).isSameAs(MINUTE);
    assertThat(counts.revisionBound()).isSameAs(RevisionBound.NONE);
  }
}
