package dev.arbor.server.cli;

import java.io.PrintStream;

/**
 * Prints a server's "serving" line in one write. Scripts and the test harness wait for that line,
 * and stdout and stderr (the log) often go to one file: {@code printf} writes its pieces separately,
 * so a log line from another thread could land inside it and the waiter would never see it whole.
 */
final class ServingLine {
  private ServingLine() {}

  static void print(PrintStream out, String format, Object... args) {
    String line = String.format(format, args) + System.lineSeparator();
    synchronized (out) {
      out.print(line);
      out.flush();
    }
  }
}
