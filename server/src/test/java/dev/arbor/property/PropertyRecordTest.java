package dev.arbor.property;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PropertyRecordTest {
  private static final EntityKey KEY = new EntityKey("g", "n", "id/1");
  private static final byte[] SRC = "source".getBytes(StandardCharsets.UTF_8);

  @Test
  void liveRecordHasNoDeleteTimeAndTheLiveHash() {
    PropertyRecord r = PropertyRecord.live(KEY, 10, 5, SRC);

    assertThat(r.deleted()).isFalse();
    assertThat(r.deleteTime()).isZero();
    assertThat(r.sha()).isEqualTo(ContentHash.of(SRC, 0L));
  }

  @Test
  void tombstoneKeepsRevisionsAndSourceAndChangesTheHash() {
    PropertyRecord live = PropertyRecord.live(KEY, 10, 5, SRC);

    PropertyRecord t = live.tombstone(99);

    assertThat(t.key()).isEqualTo(KEY);
    assertThat(t.modRevision()).isEqualTo(10);
    assertThat(t.createRevision()).isEqualTo(5);
    assertThat(t.source()).isEqualTo(SRC);
    assertThat(t.deleted()).isTrue();
    assertThat(t.deleteTime()).isEqualTo(99);
    assertThat(t.sha()).isEqualTo(ContentHash.of(SRC, 99)).isNotEqualTo(live.sha());
    assertThat(t).isNotEqualTo(live);
    assertThat(live.tombstone(100).sha()).isNotEqualTo(t.sha());
  }

  @Test
  void tombstoneAtIsANewVersionAboveTheDeletedOne() {
    PropertyRecord live = PropertyRecord.live(KEY, 10, 5, SRC);

    PropertyRecord t = live.tombstoneAt(11, 11);

    assertThat(t.modRevision()).isEqualTo(11);
    assertThat(t.createRevision()).isEqualTo(5);
    assertThat(t.source()).isEqualTo(SRC);
    assertThat(t.deleteTime()).isEqualTo(11);
    assertThat(t.sha()).isEqualTo(ContentHash.of(SRC, 11));
    assertThat(LastWriteWins.beats(t, live)).isTrue();
    // A delete must beat the version it read, not tie with it.
    assertThatThrownBy(() -> live.tombstoneAt(10, 11)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> live.tombstoneAt(11, 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void tombstoneRequiresPositiveDeleteTime() {
    PropertyRecord live = PropertyRecord.live(KEY, 10, 5, SRC);
    assertThatThrownBy(() -> live.tombstone(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> live.tombstone(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void equalityComparesArrayContents() {
    PropertyRecord a = PropertyRecord.live(KEY, 10, 5, SRC.clone());
    PropertyRecord b = PropertyRecord.live(EntityKey.parse(KEY.entity()), 10, 5, SRC.clone());

    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    assertThat(a).isNotEqualTo(PropertyRecord.live(KEY, 10, 5, "other".getBytes(StandardCharsets.UTF_8)));
    assertThat(a).isNotEqualTo(PropertyRecord.live(KEY, 10, 6, SRC));
  }
}
