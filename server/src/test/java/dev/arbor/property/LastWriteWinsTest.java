package dev.arbor.property;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LastWriteWinsTest {
  private static final EntityKey KEY = new EntityKey("g", "n", "i");

  private static PropertyRecord live(long rev) {
    return live(rev, "v");
  }

  private static PropertyRecord live(long rev, String content) {
    return PropertyRecord.live(KEY, rev, 1, content.getBytes(StandardCharsets.UTF_8));
  }

  private static PropertyRecord tomb(long rev, long deleteTime) {
    return live(rev).tombstone(deleteTime);
  }

  @Test
  void anythingBeatsAMissingCurrent() {
    assertThat(LastWriteWins.beats(live(1), null)).isTrue();
    assertThat(LastWriteWins.beats(tomb(1, 5), null)).isTrue();
  }

  @Test
  void higherRevisionWinsWhateverTheDeleteState() {
    assertThat(LastWriteWins.beats(live(2), live(1))).isTrue();
    assertThat(LastWriteWins.beats(live(1), live(2))).isFalse();

    assertThat(LastWriteWins.beats(live(2), tomb(1, Long.MAX_VALUE))).isTrue();
    assertThat(LastWriteWins.beats(tomb(1, Long.MAX_VALUE), live(2))).isFalse();

    assertThat(LastWriteWins.beats(tomb(2, 1), tomb(1, 100))).isTrue();
    assertThat(LastWriteWins.beats(tomb(1, 100), tomb(2, 1))).isFalse();
  }

  @Test
  void atEqualRevisionATombstoneBeatsALiveCopy() {
    assertThat(LastWriteWins.beats(tomb(5, 1), live(5))).isTrue();
    assertThat(LastWriteWins.beats(live(5), tomb(5, 1))).isFalse();
  }

  @Test
  void betweenTombstonesOfEqualRevisionTheLaterDeleteTimeWins() {
    assertThat(LastWriteWins.beats(tomb(5, 200), tomb(5, 100))).isTrue();
    assertThat(LastWriteWins.beats(tomb(5, 100), tomb(5, 200))).isFalse();
  }

  @Test
  void equalVersionsNeverBeatEachOther() {
    assertThat(LastWriteWins.beats(live(5), live(5))).isFalse();
    // equal (revision, delete state) is "in sync" even if the bytes differ: never re-sent
    assertThat(LastWriteWins.beats(live(5, "a"), live(5, "b"))).isFalse();
    assertThat(LastWriteWins.beats(live(5, "b"), live(5, "a"))).isFalse();
    assertThat(LastWriteWins.beats(tomb(5, 7), tomb(5, 7))).isFalse();
    assertThat(LastWriteWins.ORDER.compare(tomb(5, 7), tomb(5, 7))).isZero();
  }

  /** An oracle written from the rule, independent of the comparator's construction. */
  private static boolean oracleBeats(PropertyRecord a, PropertyRecord b) {
    if (a.modRevision() != b.modRevision()) {
      return a.modRevision() > b.modRevision();
    }
    if (a.deleted() != b.deleted()) {
      return a.deleted();
    }
    return a.deleted() && a.deleteTime() > b.deleteTime();
  }

  @Test
  void randomPairsFollowTheRuleAndFormATotalOrder() {
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    List<PropertyRecord> rs = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      long rev = rnd.nextInt(6) - 2; // small range: many ties, some negative revisions
      rs.add(rnd.nextBoolean() ? live(rev) : tomb(rev, 1 + rnd.nextInt(4)));
    }
    for (PropertyRecord a : rs) {
      for (PropertyRecord b : rs) {
        boolean ab = LastWriteWins.beats(a, b);
        boolean ba = LastWriteWins.beats(b, a);
        assertThat(ab).as("seed=%d %s vs %s", seed, a, b).isEqualTo(oracleBeats(a, b));
        assertThat(ab && ba).as("seed=%d antisymmetry %s vs %s", seed, a, b).isFalse();
        for (PropertyRecord c : rs.subList(0, 30)) {
          if (ab && LastWriteWins.beats(b, c)) {
            assertThat(LastWriteWins.beats(a, c)).as("seed=%d transitivity %s>%s>%s", seed, a, b, c).isTrue();
          }
        }
      }
    }
  }
}
