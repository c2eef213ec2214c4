package dev.arbor.property;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link LastWriteWins#why} names the rule that decides, and agrees with {@link LastWriteWins#ORDER}. */
class LastWriteWinsWhyTest {
  private static final EntityKey KEY = new EntityKey("g", "n", "id");

  private static PropertyRecord live(long rev, String body) {
    return PropertyRecord.live(KEY, rev, rev, body.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void namesEachRule() {
    assertThat(LastWriteWins.why(live(5, "a"), live(4, "a"))).startsWith("newer mod revision (5 > 4)");
    assertThat(LastWriteWins.why(live(5, "a").tombstone(9), live(5, "a"))).isEqualTo("tombstone wins at equal mod revision");
    assertThat(LastWriteWins.why(live(5, "a").tombstone(9), live(5, "a").tombstone(8)))
        .isEqualTo("later delete time at equal mod revision");
    PropertyRecord x = live(5, "x");
    PropertyRecord y = live(5, "y");
    PropertyRecord winner = LastWriteWins.ORDER.compare(x, y) > 0 ? x : y;
    assertThat(LastWriteWins.why(winner, winner == x ? y : x)).startsWith("larger content hash");
    assertThat(LastWriteWins.why(x, live(5, "x"))).isEqualTo("identical");
  }

  @Test
  void saysIdenticalExactlyWhenTheOrderSaysEqual() {
    long seed = System.nanoTime();
    System.out.println("LastWriteWinsWhyTest seed " + seed);
    Random r = new Random(seed);
    List<PropertyRecord> records = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      PropertyRecord p = live(r.nextInt(3), "b" + r.nextInt(2));
      records.add(r.nextBoolean() ? p : p.tombstone(1 + r.nextInt(2)));
    }
    for (PropertyRecord a : records) {
      for (PropertyRecord b : records) {
        int c = LastWriteWins.ORDER.compare(a, b);
        String why = c >= 0 ? LastWriteWins.why(a, b) : LastWriteWins.why(b, a);
        assertThat(why.equals("identical")).as("seed %d: %s vs %s", seed, a, b).isEqualTo(c == 0);
      }
    }
  }
}
