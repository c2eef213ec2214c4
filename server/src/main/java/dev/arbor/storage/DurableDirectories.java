package dev.arbor.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Creates directories so that they survive a power loss. A new directory's entry lives in its
 * parent, and POSIX keeps an entry only once the parent has been fsynced: without that, a machine
 * that loses power may come back without a directory (the write-ahead log's, a shard's) whose
 * files were all fsynced, and with it every write they acknowledged.
 */
public final class DurableDirectories {
  private DurableDirectories() {}

  /**
   * As {@link Files#createDirectories}, then fsyncs the parent of each directory it created, top
   * down. Costs nothing when {@code dir} exists.
   *
   * @return {@code dir}
   */
  public static Path create(Path dir) throws IOException {
    Deque<Path> missing = new ArrayDeque<>();
    for (Path p = dir.toAbsolutePath(); p != null && !Files.isDirectory(p); p = p.getParent()) {
      missing.push(p);
    }
    Files.createDirectories(dir);
    for (Path created : missing) {
      AtomicFileWriter.fsyncDirectory(created.getParent());
    }
    return dir;
  }
}
