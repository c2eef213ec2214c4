package dev.arbor.repair.tree;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.DayOfWeek;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class BuildScheduleTest {
  static final ZoneId UTC = ZoneId.of("UTC");
  static final ZonedDateTime T = ZonedDateTime.of(2024, 5, 14, 10, 15, 30, 123_000_000, UTC); // a Tuesday

  @Test
  void everyDurationAddsTheDuration() {
    assertThat(BuildSchedule.parse("@every 30s").next(T)).isEqualTo(T.plusSeconds(30));
    assertThat(BuildSchedule.parse("@every 30s").interval(T)).isEqualTo(Duration.ofSeconds(30));
    assertThat(BuildSchedule.parse("@every 250ms").next(T)).isEqualTo(T.plusNanos(250_000_000));
    assertThat(BuildSchedule.parse("@every 10m").interval(T)).isEqualTo(Duration.ofMinutes(10));
    assertThat(BuildSchedule.parse("@every 1h").next(T)).isEqualTo(T.plusHours(1));
    assertThat(BuildSchedule.parse("@every 2d").interval(T)).isEqualTo(Duration.ofDays(2));
    assertThat(BuildSchedule.parse("  @every 5s  ").next(T)).isEqualTo(T.plusSeconds(5));
    assertThat(BuildSchedule.parse("@every PT90S").interval(T)).isEqualTo(Duration.ofSeconds(90));
  }

  @Test
  void hourlyFiresAtTheNextFullHour() {
    BuildSchedule s = BuildSchedule.parse("@hourly");
    assertThat(s.next(T)).isEqualTo(ZonedDateTime.of(2024, 5, 14, 11, 0, 0, 0, UTC));
    assertThat(s.interval(T)).isEqualTo(Duration.ofHours(1));
    // strictly after: at a full hour the next one is an hour later
    ZonedDateTime full = ZonedDateTime.of(2024, 5, 14, 11, 0, 0, 0, UTC);
    assertThat(s.next(full)).isEqualTo(full.plusHours(1));
    assertThat(BuildSchedule.parse("0 * * * *").next(T)).isEqualTo(s.next(T));
  }

  @Test
  void dailyAndWeeklyShortcuts() {
    assertThat(BuildSchedule.parse("@daily").next(T)).isEqualTo(ZonedDateTime.of(2024, 5, 15, 0, 0, 0, 0, UTC));
    assertThat(BuildSchedule.parse("@midnight").interval(T)).isEqualTo(Duration.ofDays(1));
    ZonedDateTime weekly = BuildSchedule.parse("@weekly").next(T);
    assertThat(weekly.getDayOfWeek()).isEqualTo(DayOfWeek.SUNDAY);
    assertThat(weekly).isEqualTo(ZonedDateTime.of(2024, 5, 19, 0, 0, 0, 0, UTC));
  }

  @Test
  void fiveFieldCronIsParsedAndUsedAtRuntime() {
    // upstream HAZARD §6: 5-field cron passed validation and then failed at startup
    BuildSchedule quarter = BuildSchedule.parse("*/15 * * * *");
    assertThat(quarter.next(T)).isEqualTo(ZonedDateTime.of(2024, 5, 14, 10, 30, 0, 0, UTC));
    assertThat(quarter.interval(T)).isEqualTo(Duration.ofMinutes(15));

    BuildSchedule twoAm = BuildSchedule.parse("0 2 * * *");
    assertThat(twoAm.next(T)).isEqualTo(ZonedDateTime.of(2024, 5, 15, 2, 0, 0, 0, UTC));
    assertThat(twoAm.interval(T)).isEqualTo(Duration.ofDays(1));

    BuildSchedule weekdays = BuildSchedule.parse("30 9 * * 1-5");
    ZonedDateTime friday = ZonedDateTime.of(2024, 5, 17, 12, 0, 0, 0, UTC);
    assertThat(weekdays.next(friday)).isEqualTo(ZonedDateTime.of(2024, 5, 20, 9, 30, 0, 0, UTC)); // Monday

    // fire times keep the zone of the reference time (server local time)
    ZoneId tokyo = ZoneId.of("Asia/Tokyo");
    ZonedDateTime local = ZonedDateTime.of(2024, 5, 14, 1, 30, 0, 0, tokyo);
    assertThat(twoAm.next(local)).isEqualTo(ZonedDateTime.of(2024, 5, 14, 2, 0, 0, 0, tokyo));
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "@every", "@every ", "@every 0s", "@every -5s", "@every 5", "@every 5x", "@every 1.5h", "@every s",
    "bogus", "* * *", "61 * * * *", "* 25 * * *", "0 0 * * * ? *", "@fortnightly", "every 5s"
  })
  void badExpressionsFailAtParseWithTheValueInTheMessage(String expr) {
    assertThatThrownBy(() -> BuildSchedule.parse(expr))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + expr + "'");
  }

  @Test
  void emptyExpressionIsRejected() {
    assertThatThrownBy(() -> BuildSchedule.parse("")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> BuildSchedule.parse("   ")).isInstanceOf(IllegalArgumentException.class);
  }
}
