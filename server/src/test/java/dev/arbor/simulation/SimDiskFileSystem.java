package dev.arbor.simulation;

import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.spi.FileSystemProvider;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * The default file system seen through a node's {@link SimDisk}: production code handed a path of
 * this file system (the node's data directory) opens, writes, fsyncs, renames and deletes through
 * it, so the disk knows what a power loss would keep. Nothing of production changes: it only ever
 * sees {@code java.nio.file.Path}s. Code that escaped to {@code java.io.File} would fail loudly
 * ({@code Path.toFile} refuses a path of another file system).
 */
final class SimDiskFileSystem extends FileSystem {
  private static final FileSystem DEFAULT = FileSystems.getDefault();
  private final Provider provider;
  final SimDisk disk;

  SimDiskFileSystem(SimDisk disk) {
    this.disk = disk;
    this.provider = new Provider(this);
  }

  /** The real path {@code real} as a path of this file system. */
  Path wrap(Path real) {
    return new SimDiskPath(this, real);
  }

  @Override
  public FileSystemProvider provider() {
    return provider;
  }

  @Override
  public void close() {
  }

  @Override
  public boolean isOpen() {
    return true;
  }

  @Override
  public boolean isReadOnly() {
    return false;
  }

  @Override
  public String getSeparator() {
    return DEFAULT.getSeparator();
  }

  @Override
  public Iterable<Path> getRootDirectories() {
    return () -> wrapped(DEFAULT.getRootDirectories().iterator());
  }

  /** Real paths as this file system's, one by one. */
  Iterator<Path> wrapped(Iterator<Path> real) {
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return real.hasNext();
      }

      @Override
      public Path next() {
        return wrap(real.next());
      }
    };
  }

  @Override
  public Iterable<FileStore> getFileStores() {
    return DEFAULT.getFileStores();
  }

  @Override
  public Set<String> supportedFileAttributeViews() {
    return DEFAULT.supportedFileAttributeViews();
  }

  @Override
  public Path getPath(String first, String... more) {
    return wrap(DEFAULT.getPath(first, more));
  }

  @Override
  public PathMatcher getPathMatcher(String syntaxAndPattern) {
    PathMatcher m = DEFAULT.getPathMatcher(syntaxAndPattern);
    return p -> m.matches(SimDiskPath.unwrap(p));
  }

  @Override
  public UserPrincipalLookupService getUserPrincipalLookupService() {
    return DEFAULT.getUserPrincipalLookupService();
  }

  @Override
  public WatchService newWatchService() {
    throw new UnsupportedOperationException("the simulated disk does not watch directories");
  }

  /** Delegates to the default provider on the real paths, telling the disk what changes. */
  private static final class Provider extends FileSystemProvider {
    private static final FileSystemProvider REAL = DEFAULT.provider();
    private final SimDiskFileSystem fs;

    Provider(SimDiskFileSystem fs) {
      this.fs = fs;
    }

    private static Path r(Path p) {
      return SimDiskPath.unwrap(p);
    }

    @Override
    public String getScheme() {
      return "simdisk";
    }

    @Override
    public FileSystem newFileSystem(URI uri, Map<String, ?> env) {
      throw new UnsupportedOperationException("the simulated disk is one file system per node, made by SimDisk");
    }

    @Override
    public FileSystem getFileSystem(URI uri) {
      return fs;
    }

    @Override
    public Path getPath(URI uri) {
      return fs.wrap(REAL.getPath(uri));
    }

    @Override
    public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
        throws IOException {
      return fs.disk.open(r(path), options, attrs);
    }

    @Override
    public FileChannel newFileChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
        throws IOException {
      return fs.disk.open(r(path), options, attrs);
    }

    @Override
    public DirectoryStream<Path> newDirectoryStream(Path dir, DirectoryStream.Filter<? super Path> filter)
        throws IOException {
      DirectoryStream<Path> real = REAL.newDirectoryStream(r(dir), p -> filter.accept(fs.wrap(p)));
      return new DirectoryStream<>() {
        @Override
        public Iterator<Path> iterator() {
          return fs.wrapped(real.iterator());
        }

        @Override
        public void close() throws IOException {
          real.close();
        }
      };
    }

    @Override
    public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
      fs.disk.createDirectory(r(dir), attrs);
    }

    @Override
    public void createLink(Path link, Path existing) throws IOException {
      fs.disk.createLink(r(link), r(existing));
    }

    @Override
    public void createSymbolicLink(Path link, Path target, FileAttribute<?>... attrs) {
      throw new UnsupportedOperationException("the simulated disk does not model symbolic links");
    }

    @Override
    public void delete(Path path) throws IOException {
      fs.disk.delete(r(path));
    }

    @Override
    public void copy(Path source, Path target, CopyOption... options) throws IOException {
      fs.disk.copy(r(source), r(target), options);
    }

    @Override
    public void move(Path source, Path target, CopyOption... options) throws IOException {
      fs.disk.move(r(source), r(target), options);
    }

    @Override
    public boolean isSameFile(Path path, Path path2) throws IOException {
      return REAL.isSameFile(r(path), r(path2));
    }

    @Override
    public boolean isHidden(Path path) throws IOException {
      return REAL.isHidden(r(path));
    }

    @Override
    public FileStore getFileStore(Path path) throws IOException {
      return REAL.getFileStore(r(path));
    }

    @Override
    public void checkAccess(Path path, AccessMode... modes) throws IOException {
      REAL.checkAccess(r(path), modes);
    }

    @Override
    public <V extends FileAttributeView> V getFileAttributeView(Path path, Class<V> type, LinkOption... options) {
      return REAL.getFileAttributeView(r(path), type, options);
    }

    @Override
    public <A extends BasicFileAttributes> A readAttributes(Path path, Class<A> type, LinkOption... options)
        throws IOException {
      return REAL.readAttributes(r(path), type, options);
    }

    @Override
    public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options)
        throws IOException {
      return REAL.readAttributes(r(path), attributes, options);
    }

    @Override
    public void setAttribute(Path path, String attribute, Object value, LinkOption... options) throws IOException {
      REAL.setAttribute(r(path), attribute, value, options);
    }
  }
}
