package dev.arbor.simulation;

import java.io.IOException;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.Objects;

/**
 * A path of a {@link SimDiskFileSystem}: a real path of the default file system, wrapped so that
 * what production code does with it (open, write, fsync, rename, delete) goes through the node's
 * {@link SimDisk}. Everything else is the real path's.
 */
final class SimDiskPath implements Path {
  private final SimDiskFileSystem fs;
  final Path real;

  SimDiskPath(SimDiskFileSystem fs, Path real) {
    this.fs = fs;
    this.real = Objects.requireNonNull(real);
  }

  private SimDiskPath wrap(Path p) {
    return p == null ? null : new SimDiskPath(fs, p);
  }

  static Path unwrap(Path p) {
    if (p instanceof SimDiskPath s) {
      return s.real;
    }
    if (p == null || p.getFileSystem() == java.nio.file.FileSystems.getDefault()) {
      return p;
    }
    throw new ProviderMismatchException("not a simulated disk's path: " + p);
  }

  @Override
  public FileSystem getFileSystem() {
    return fs;
  }

  @Override
  public boolean isAbsolute() {
    return real.isAbsolute();
  }

  @Override
  public Path getRoot() {
    return wrap(real.getRoot());
  }

  @Override
  public Path getFileName() {
    return wrap(real.getFileName());
  }

  @Override
  public Path getParent() {
    return wrap(real.getParent());
  }

  @Override
  public int getNameCount() {
    return real.getNameCount();
  }

  @Override
  public Path getName(int index) {
    return wrap(real.getName(index));
  }

  @Override
  public Path subpath(int beginIndex, int endIndex) {
    return wrap(real.subpath(beginIndex, endIndex));
  }

  @Override
  public boolean startsWith(Path other) {
    return other instanceof SimDiskPath && real.startsWith(unwrap(other));
  }

  @Override
  public boolean endsWith(Path other) {
    return other instanceof SimDiskPath && real.endsWith(unwrap(other));
  }

  @Override
  public Path normalize() {
    return wrap(real.normalize());
  }

  @Override
  public Path resolve(Path other) {
    return wrap(real.resolve(unwrap(other)));
  }

  @Override
  public Path relativize(Path other) {
    return wrap(real.relativize(unwrap(other)));
  }

  @Override
  public URI toUri() {
    return real.toUri();
  }

  @Override
  public Path toAbsolutePath() {
    return wrap(real.toAbsolutePath());
  }

  @Override
  public Path toRealPath(LinkOption... options) throws IOException {
    return wrap(real.toRealPath(options));
  }

  @Override
  public WatchKey register(WatchService watcher, WatchEvent.Kind<?>[] events, WatchEvent.Modifier... modifiers) {
    throw new UnsupportedOperationException("the simulated disk does not watch directories");
  }

  @Override
  public int compareTo(Path other) {
    return real.compareTo(unwrap(other));
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SimDiskPath p && p.fs == fs && p.real.equals(real);
  }

  @Override
  public int hashCode() {
    return real.hashCode();
  }

  @Override
  public String toString() {
    return real.toString();
  }
}
