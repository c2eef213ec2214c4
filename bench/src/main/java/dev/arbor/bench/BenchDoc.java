package dev.arbor.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes or replaces one benchmark's section of docs/benchmarks.md (between its start and end
 * markers), keeping the rest of the file; the API benchmark's markers by default.
 */
public final class BenchDoc {
  static final String START = "<!-- api-bench:start -->";
  static final String END = "<!-- api-bench:end -->";

  private static final String NEW_FILE_HEADER = """
      # Arbor benchmarks

      Measured figures for Arbor. Each section is written by the benchmark that produced it and lies
      between that benchmark's markers: re-running a benchmark replaces its own section and keeps the
      rest of this file. The targets come from the architecture document (§5 Targets).

      """;

  private BenchDoc() {}

  static void writeSection(Path file, String markdown) throws IOException {
    writeSection(file, START, END, markdown);
  }

  /**
   * Replaces the text between {@code start} and {@code end} (markers included) with the markers
   * around {@code markdown}; appends the section at the end when the markers are absent.
   */
  public static void writeSection(Path file, String start, String end, String markdown)
      throws IOException {
    String section = start + "\n" + markdown.strip() + "\n" + end;
    String text;
    if (Files.exists(file)) {
      String old = Files.readString(file, StandardCharsets.UTF_8);
      int s = old.indexOf(start);
      int e = s < 0 ? -1 : old.indexOf(end, s);
      if (s >= 0 && e >= 0) {
        text = old.substring(0, s) + section + old.substring(e + end.length());
      } else {
        text = old.stripTrailing() + "\n\n" + section + "\n";
      }
    } else {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      text = NEW_FILE_HEADER + section + "\n";
    }
    Files.writeString(file, text, StandardCharsets.UTF_8);
  }
}
