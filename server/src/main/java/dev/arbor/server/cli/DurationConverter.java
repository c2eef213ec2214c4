package dev.arbor.server.cli;

import dev.arbor.config.Durations;
import java.time.Duration;
import picocli.CommandLine;

/** Parses durations like {@code 500ms}, {@code 30s}, {@code 10m}, {@code 1h}, {@code 7d} or ISO-8601. */
public final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
  @Override
  public Duration convert(String value) {
    return parse(value);
  }

  public static Duration parse(String value) {
    return Durations.parse(value).orElseThrow(() -> new CommandLine.TypeConversionException(
        "'" + value + "' is not a duration (examples: 500ms, 30s, 10m, 1h, 7d)"));
  }

  /** Renders a duration in the same short form ({@code 10s}, {@code 500ms}, ...). */
  public static String format(Duration d) {
    return Durations.format(d);
  }
}
