package dev.arbor.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Exclusive use of a data directory: an OS lock on {@code arbor.lock} keeps out other processes
 * (a second server, or an offline tool such as {@code arbor wal salvage}).
 */
public final class DataDirLock implements Closeable {
  /** Data directories locked in this JVM (the one process-wide fact a file lock cannot express). */
  private static final Set<Path> LOCKED_IN_THIS_PROCESS = ConcurrentHashMap.newKeySet();

  private final Path canonical;
  private final FileChannel channel;
  private final FileLock lock;

  private DataDirLock(Path canonical, FileChannel channel, FileLock lock) {
    this.canonical = canonical;
    this.channel = channel;
    this.lock = lock;
  }

  /** Locks {@code dir} (creating it), or fails with a {@link StorageException} saying who holds it. */
  public static DataDirLock acquire(Path dir) throws IOException {
    DurableDirectories.create(dir);
    Path canonical = dir.toRealPath();
    // OS file locks belong to the process, and closing any channel of the file drops them: a
    // second lock in this JVM must be refused before it touches the lock file at all.
    if (!LOCKED_IN_THIS_PROCESS.add(canonical)) {
      throw new StorageException("data directory " + canonical + " is in use by this Arbor process");
    }
    try {
      FileChannel ch = FileChannel.open(dir.resolve("arbor.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        ch.close();
        throw new StorageException("data directory " + dir.toAbsolutePath() + " is in use by another Arbor process");
      }
      return new DataDirLock(canonical, ch, lock);
    } catch (IOException | RuntimeException e) {
      LOCKED_IN_THIS_PROCESS.remove(canonical);
      throw e;
    }
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
      channel.close();
    } finally {
      LOCKED_IN_THIS_PROCESS.remove(canonical);
    }
  }
}
