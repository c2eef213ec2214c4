package dev.arbor.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A real small filesystem for disk-full tests: a tmpfs of a given size mounted over a directory.
 * Mounting needs root, which CI and the developer machines have; elsewhere the calling test is
 * skipped (a JUnit assumption) with that reason. Unmounted lazily on close, so a file still open in
 * a server being shut down does not keep it.
 */
public final class SmallDisk implements AutoCloseable {
  private final Path at;

  private SmallDisk(Path at) {
    this.at = at;
  }

  /** Mounts a tmpfs of {@code size} (e.g. {@code 1m}) at {@code dir}, which must exist. */
  public static SmallDisk mount(Path dir, String size) throws Exception {
    assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir.toString()) == 0,
        "mounting a tmpfs needs root");
    return new SmallDisk(dir);
  }

  public Path path() {
    return at;
  }

  @Override
  public void close() throws Exception {
    run("umount", "-l", at.toString());
  }

  private static int run(String... cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor(30, TimeUnit.SECONDS) ? p.exitValue() : -1;
  }
}
