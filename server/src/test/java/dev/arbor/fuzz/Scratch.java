package dev.arbor.fuzz;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where a target keeps the files it rewrites per input: a directory in memory (/dev/shm) when
 * there is one, so fsyncs and rewrites cost microseconds and ten thousand opens fit the CI budget;
 * else the test's own temporary directory. Durability is not under test here, parsing is.
 */
final class Scratch implements AutoCloseable {
  private final Path dir;
  private final boolean owned;

  private Scratch(Path dir, boolean owned) {
    this.dir = dir;
    this.owned = owned;
  }

  static Scratch in(Path fallback) throws IOException {
    Path shm = Path.of("/dev/shm");
    if (Files.isDirectory(shm) && Files.isWritable(shm)) {
      return new Scratch(Files.createTempDirectory(shm, "arbor-fuzz-"), true);
    }
    return new Scratch(Files.createDirectories(fallback.resolve("scratch")), false);
  }

  Path dir() {
    return dir;
  }

  @Override
  public void close() throws IOException {
    if (!owned) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
