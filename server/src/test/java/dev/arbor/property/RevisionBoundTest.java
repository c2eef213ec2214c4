package dev.arbor.property;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Versions from the far future are refused on receipt, and the version clock never wraps. */
class RevisionBoundTest {
  private static final long NOW = 1_800_000_000_000_000_000L;
  private static final RevisionBound MINUTE = RevisionBound.of(() -> NOW, Duration.ofMinutes(1));
  private static final EntityKey KEY = new EntityKey("g", "n", "id");

  private static PropertyRecord at(long rev) {
    return PropertyRecord.live(KEY, rev, rev, new byte[] {1});
  }

  @Test
  void recordsUpToTheBoundAreAcceptedAndBeyondItRefused() {
    assertThat(MINUTE.problem(at(NOW))).isEmpty();
    assertThat(MINUTE.problem(at(NOW + Duration.ofMinutes(1).toNanos()))).isEmpty();
    assertThat(MINUTE.problem(at(NOW - Duration.ofDays(365).toNanos()))).as("the past is fine").isEmpty();
    assertThat(MINUTE.problem(at(NOW + Duration.ofMinutes(1).toNanos() + 1))).get().asString()
        .contains("mod_revision").contains("ahead of this node's clock");
    assertThat(MINUTE.problem(at(Long.MAX_VALUE))).isPresent();
  }

  @Test
  void aTombstoneDeletedInTheFutureIsRefusedToo() {
    PropertyRecord t = at(NOW).tombstoneAt(NOW + 1, NOW + Duration.ofHours(1).toNanos());
    assertThat(MINUTE.problem(t)).get().asString().contains("delete_time");
  }

  @Test
  void noneAcceptsEverything() {
    assertThat(RevisionBound.NONE.problem(at(Long.MAX_VALUE))).isEmpty();
  }

  @Test
  void theClockRefusesToWrapInsteadOfIssuingANegativeVersion() {
    HybridClock clock = new HybridClock(() -> NOW);
    assertThatThrownBy(() -> clock.next(Long.MAX_VALUE)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no revision above");
    assertThat(clock.next(Long.MAX_VALUE - 1)).isEqualTo(Long.MAX_VALUE);
    assertThatThrownBy(clock::next).isInstanceOf(IllegalStateException.class).hasMessageContaining("exhausted");
  }
}
