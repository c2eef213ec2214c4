package dev.arbor.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data-directory lock must keep out other processes. Checked with a real second JVM, because
 * an in-process check cannot see whether the operating-system lock is still held.
 */
class PropertyStoreLockTest {
  @TempDir Path tmp;

  private static final String PROBE =
      """
      import java.nio.channels.FileChannel;
      import java.nio.channels.FileLock;
      import java.nio.file.Path;
      import java.nio.file.StandardOpenOption;

      public class LockProbe {
        public static void main(String[] args) throws Exception {
          try (FileChannel ch = FileChannel.open(Path.of(args[0]), StandardOpenOption.WRITE)) {
            FileLock l = ch.tryLock();
            System.out.print(l == null ? "HELD" : "ACQUIRED");
          }
        }
      }
      """;

  /** Runs a separate JVM that tries to lock {@code lockFile}: "HELD" or "ACQUIRED". */
  private String probe(Path lockFile) throws IOException, InterruptedException {
    Path src = tmp.resolve("LockProbe.java");
    if (!Files.exists(src)) {
      Files.writeString(src, PROBE);
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, src.toString(), lockFile.toString()).redirectErrorStream(true).start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("probe JVM finished").isTrue();
    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
  }

  @Test
  void anotherProcessCannotLockAnOpenDataDirectory() throws Exception {
    Path dir = tmp.resolve("node");
    try (PropertyStore store = PropertyStore.open(dir, g -> true)) {
      assertThat(probe(dir.resolve("arbor.lock"))).isEqualTo("HELD");
    }
    assertThat(probe(dir.resolve("arbor.lock"))).as("released on close").isEqualTo("ACQUIRED");
  }

  @Test
  void aRejectedSecondOpenInTheSameProcessDoesNotReleaseTheFirstStoresLock() throws Exception {
    Path dir = tmp.resolve("node");
    try (PropertyStore store = PropertyStore.open(dir, g -> true)) {
      assertThatThrownBy(() -> PropertyStore.open(dir, g -> true))
          .isInstanceOf(StorageException.class)
          .hasMessageContaining("in use");

      // POSIX record locks belong to the process and are dropped when ANY descriptor of the file
      // is closed; the failed open must not close a second channel on the lock file.
      assertThat(probe(dir.resolve("arbor.lock")))
          .as("the first store's lock after a rejected second open")
          .isEqualTo("HELD");
    }
  }
}
