package dev.arbor.server.cli;

import java.util.regex.Pattern;

/** Turns library exception messages into one readable line for the user. */
final class Messages {
  /**
   * Wrapping exceptions often prefix the cause's class name ("com.google.gson...Exception: ...");
   * the user needs the explanation, not the Java type.
   */
  private static final Pattern CLASS_PREFIX =
      Pattern.compile("^\\s*(?:[A-Za-z_$][\\w$]*\\.)+[A-Za-z_$][\\w$]*(?:Exception|Error)\\s*:\\s*");

  private Messages() {}

  /** The first line of the most informative message in {@code t}'s cause chain. */
  static String oneLine(Throwable t) {
    String best = null;
    for (Throwable c = t; c != null && best == null; c = c.getCause()) {
      String m = clean(c.getMessage());
      if (!m.isEmpty()) {
        best = m;
      }
    }
    return best != null ? best : t.getClass().getSimpleName();
  }

  /** Strips class-name prefixes and keeps only the first non-blank line. */
  static String clean(String message) {
    if (message == null) {
      return "";
    }
    String m = message;
    String previous;
    do {
      previous = m;
      m = CLASS_PREFIX.matcher(m).replaceFirst("");
    } while (!m.equals(previous));
    for (String line : m.split("\\R")) {
      if (!line.isBlank()) {
        return line.strip();
      }
    }
    return "";
  }
}
