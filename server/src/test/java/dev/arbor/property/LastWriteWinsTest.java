package dev.arbor.property;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
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
    assertThat(LastWriteWins.beats(tomb(5, 7), tomb(5, 7))).isFalse();
    assertThat(LastWriteWins.ORDER.compare(tomb(5, 7), tomb(5, 7))).isZero();
  }

  @Test
  void atEqualRevisionAndDeleteStateTheLargerContentHashWins() {
    // Two liaisons can stamp the same revision on one key with different bytes: exactly one must
    // win everywhere, or replicas keep their own copies forever.
    PropertyRecord a = live(5, "a");
    PropertyRecord b = live(5, "b");
    PropertyRecord hi = Arrays.compareUnsigned(a.sha(), b.sha()) > 0 ? a : b;
    PropertyRecord lo = hi == a ? b : a;
    assertThat(LastWriteWins.beats(hi, lo)).isTrue();
    assertThat(LastWriteWins.beats(lo, hi)).isFalse();
    assertThat(LastWriteWins.ORDER.compare(hi, live(5, hi == a ? "a" : "b"))).as("same content: in sync").isZero();
    // Tombstones of equal revision and delete time but different bytes are ordered the same way.
    PropertyRecord ta = live(5, "a").tombstone(9);
    PropertyRecord tb = live(5, "b").tombstone(9);
    assertThat(LastWriteWins.beats(ta, tb)).isEqualTo(Arrays.compareUnsigned(ta.sha(), tb.sha()) > 0);
    assertThat(LastWriteWins.beats(ta, tb)).isNotEqualTo(LastWriteWins.beats(tb, ta));
  }

  @Test
  void theContentTieBreakComparesHashBytesUnsigned() {
    // A hash starting 0x80 must rank above one starting 0x7f: a signed comparison inverts them.
    PropertyRecord high = withShaStart(live(5), (byte) 0x80);
    PropertyRecord low = withShaStart(live(5), (byte) 0x7f);
    assertThat(LastWriteWins.beats(high, low)).isTrue();
    assertThat(LastWriteWins.beats(low, high)).isFalse();
  }

  private static PropertyRecord withShaStart(PropertyRecord r, byte first) {
    byte[] sha = r.sha().clone();
    sha[0] = first;
    return new PropertyRecord(r.key(), r.modRevision(), r.createRevision(), r.deleteTime(), r.source(), sha);
  }

  /** An oracle written from the rule, independent of the comparator's construction. */
  private static boolean oracleBeats(PropertyRecord a, PropertyRecord b) {
    if (a.modRevision() != b.modRevision()) {
      return a.modRevision() > b.modRevision();
    }
    if (a.deleted() != b.deleted()) {
      return a.deleted();
    }
    if (a.deleteTime() != b.deleteTime()) {
      return a.deleteTime() > b.deleteTime();
    }
    for (int i = 0; i < Math.min(a.sha().length, b.sha().length); i++) {
      int x = a.sha()[i] & 0xff;
      int y = b.sha()[i] & 0xff;
      if (x != y) {
        return x > y;
      }
    }
    return a.sha().length > b.sha().length;
  }

  @Test
  void randomPairsFollowTheRuleAndFormATotalOrder() {
    long seed = System.nanoTime();
    System.out.println("[LastWriteWinsTest] seed=" + seed);
    Random rnd = new Random(seed);
    List<PropertyRecord> rs = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      long rev = rnd.nextInt(6) - 2; // small range: many ties, some negative revisions
      PropertyRecord r = live(rev, "c" + rnd.nextInt(3)); // equal revisions with different bytes
      rs.add(rnd.nextBoolean() ? r : r.tombstone(1 + rnd.nextInt(4)));
    }
    for (PropertyRecord a : rs) {
      for (PropertyRecord b : rs) {
        boolean ab = LastWriteWins.beats(a, b);
        boolean ba = LastWriteWins.beats(b, a);
        assertThat(ab).as("seed=%d %s vs %s", seed, a, b).isEqualTo(oracleBeats(a, b));
        assertThat(ab && ba).as("seed=%d antisymmetry %s vs %s", seed, a, b).isFalse();
        if (!ab && !ba) {
          assertThat(a).as("seed=%d records that tie are identical", seed).isEqualTo(b);
        }
        for (PropertyRecord c : rs.subList(0, 30)) {
          if (ab && LastWriteWins.beats(b, c)) {
            assertThat(LastWriteWins.beats(a, c)).as("seed=%d transitivity %s>%s>%s", seed, a, b, c).isTrue();
          }
        }
      }
    }
  }
}
