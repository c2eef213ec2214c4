package dev.arbor.repair.tree;

import dev.arbor.runtime.WallClock;
import com.cronutils.model.CronType;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.Optional;

/**
 * When scheduled work fires: a standard 5-field cron expression (server local time), a shortcut
 * ({@code @hourly}, {@code @daily}, {@code @weekly}), or {@code @every <duration>} (e.g.
 * {@code @every 30s}). Parsed once at start-up so a bad value fails there, with a clear message,
 * and never later.
 */
public interface BuildSchedule {
  /** The first fire time strictly after {@code t}. */
  ZonedDateTime next(ZonedDateTime t);

  /** Time between two consecutive fire times after {@code t}. */
  default Duration interval(ZonedDateTime t) {
    ZonedDateTime a = next(t);
    return Duration.between(a, next(a));
  }

  static BuildSchedule parse(String expr) {
    String e = expr.trim();
    switch (e) {
      case "@hourly" -> e = "0 * * * *";
      case "@daily", "@midnight" -> e = "0 0 * * *";
      case "@weekly" -> e = "0 0 * * 0";
      default -> { }
    }
    if (e.startsWith("@every ")) {
      Duration d = parseDuration(e.substring(7).trim(), expr);
      return t -> t.plus(d);
    }
    ExecutionTime exec;
    try {
      exec = ExecutionTime.forCron(new CronParser(CronDefinitionBuilder.instanceDefinitionFor(CronType.UNIX)).parse(e));
    } catch (IllegalArgumentException ex) {
      throw new IllegalArgumentException(
          "'" + expr + "' is not a schedule: use 5-field cron (e.g. '0 * * * *'), @hourly, @daily or '@every 30s' ("
              + ex.getMessage() + ")");
    }
    return t -> {
      Optional<ZonedDateTime> n = exec.nextExecution(t);
      return n.orElseThrow(() -> new IllegalStateException("schedule '" + expr + "' never fires again"));
    };
  }

  private static Duration parseDuration(String s, String expr) {
    return dev.arbor.config.Durations.parse(s)
        .filter(d -> !d.isZero() && !d.isNegative())
        .orElseThrow(() -> new IllegalArgumentException(
            "'" + expr + "': @every needs a positive duration like 30s, 10m, 1h"));
  }

  /** {@code clock}'s time in the system time zone (the zone schedules are written in). */
  static ZonedDateTime now(WallClock clock) {
    return ZonedDateTime.ofInstant(clock.instant(), ZoneId.systemDefault());
  }
}
