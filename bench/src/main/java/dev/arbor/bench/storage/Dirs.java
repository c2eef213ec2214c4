package dev.arbor.bench.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Deletes a benchmark's scratch directories. */
final class Dirs {
  private Dirs() {}

  static void delete(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  static long size(Path root) throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      long n = 0;
      for (Path p : all.filter(Files::isRegularFile).toList()) {
        n += Files.size(p);
      }
      return n;
    }
  }
}
