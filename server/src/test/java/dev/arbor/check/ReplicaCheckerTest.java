package dev.arbor.check;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.check.History.Outcome;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The checker's rules on hand-made histories: each kind of violation is found, and only those. */
class ReplicaCheckerTest {
  private static final List<String> AB = List.of("a", "b");

  private static ReplicaChecker.Report check(History h, Map<String, String> a, Map<String, String> b) {
    return ReplicaChecker.check(h, Map.of("a", a, "b", b), k -> AB);
  }

  private static Map<String, String> holds(String key, String value) {
    Map<String, String> m = new HashMap<>();
    m.put(key, value);
    return m;
  }

  @Test
  void lastAcknowledgedWriteHeldEverywhereIsClean() {
    History h = new History();
    h.beginWrite("k", "v1").end(Outcome.ACKED);
    h.beginWrite("k", "v2").end(Outcome.ACKED);
    assertThat(check(h, holds("k", "v2"), holds("k", "v2")).clean()).isTrue();
  }

  @Test
  void aValueBackAfterAnAcknowledgedDeleteIsAResurrection() {
    History h = new History();
    h.beginWrite("k", "v1").end(Outcome.ACKED);
    h.beginDelete("k").end(Outcome.ACKED);
    ReplicaChecker.Report r = check(h, holds("k", null), holds("k", "v1"));
    assertThat(r.resurrections()).isEqualTo(1);
    assertThat(r.divergences()).isEqualTo(1);
    assertThat(r.lostWrites()).isZero();
  }

  @Test
  void anOlderValueOrNothingInPlaceOfAnAcknowledgedWriteIsALostWrite() {
    History h = new History();
    h.beginWrite("k", "v1").end(Outcome.ACKED);
    h.beginWrite("k", "v2").end(Outcome.ACKED);
    ReplicaChecker.Report r = check(h, holds("k", "v1"), holds("k", null));
    assertThat(r.lostWrites()).isEqualTo(2);
    assertThat(r.resurrections()).isZero();
  }

  @Test
  void concurrentAndUnknownOperationsMayEachHaveTheLastWord() {
    History h = new History();
    h.beginWrite("k", "v1").end(Outcome.ACKED);
    History.Pending w2 = h.beginWrite("k", "v2");
    History.Pending del = h.beginDelete("k");
    w2.end(Outcome.ACKED);
    del.end(Outcome.UNKNOWN);
    assertThat(check(h, holds("k", "v2"), holds("k", "v2")).clean()).isTrue();
    assertThat(check(h, holds("k", null), holds("k", null)).clean()).isTrue();
    assertThat(check(h, holds("k", "v1"), holds("k", "v1")).lostWrites()).isEqualTo(2);
  }

  @Test
  void failedOperationsNeverExplainAState() {
    History h = new History();
    h.beginWrite("k", "v1").end(Outcome.ACKED);
    h.beginDelete("k").end(Outcome.FAILED);
    h.beginWrite("k", "v2").end(Outcome.FAILED);
    assertThat(check(h, holds("k", "v1"), holds("k", "v1")).clean()).isTrue();
    assertThat(check(h, holds("k", null), holds("k", "v1")).lostWrites()).isEqualTo(1);
    assertThat(check(h, holds("k", "v2"), holds("k", "v1")).violations()).extracting(ReplicaChecker.Violation::kind)
        .containsExactly("refused write visible", "divergence");
  }

  @Test
  void aValueNoClientWroteIsReported() {
    History h = new History();
    h.beginWrite("k", "v1").end(Outcome.ACKED);
    assertThat(check(h, holds("k", "zz"), holds("k", "zz")).violations())
        .extracting(ReplicaChecker.Violation::kind).containsExactly("foreign value", "foreign value");
  }

  @Test
  void aGroupDropDeletesEveryKeyAtOnce() {
    History h = new History();
    h.beginWrite("k1", "a").end(Outcome.ACKED);
    h.beginWrite("k2", "b").end(Outcome.ACKED);
    h.beginDeleteAll(List.of("k1", "k2")).end(Outcome.ACKED);
    h.beginWrite("k2", "c").end(Outcome.ACKED);
    Map<String, String> ok = new HashMap<>(Map.of("k2", "c"));
    assertThat(check(h, ok, ok).clean()).isTrue();
    Map<String, String> revived = new HashMap<>(Map.of("k1", "a", "k2", "c"));
    assertThat(check(h, revived, revived).resurrections()).isEqualTo(2);
  }
}
