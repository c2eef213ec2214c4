package dev.arbor.simulation;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.CopyOption;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * One node's disk with its page cache: what production code writes lands in the real files at
 * once (the page cache, which a {@code kill -9} keeps), and the disk remembers what an fsync made
 * durable, so a power loss can be imaged: {@link #powerImage} writes the directory tree as the
 * disk would hold it after the machine lost power.
 *
 * <p>The model, per file (inode): its durable content is what its last successful fsync saw;
 * bytes written since are lost at a power loss (the file keeps its durable content; a file never
 * synced is empty). Per directory: its durable entries (names to inodes: creations, renames,
 * hard links, deletions) are those its last fsync saw; a file whose data was synced but whose
 * name never reached a synced directory vanishes, a deleted file whose directory was not synced
 * since comes back with its durable content. A new directory is empty until synced. A
 * <b>failed</b> fsync drops the dirty pages it covered ("fsyncgate"): they stay readable, but no
 * later fsync writes them, so after a power loss those bytes hold what the disk held before (or
 * zeros past its end) even if a later fsync succeeded. Faults pick which fsyncs fail
 * ({@link #failFsyncs}).
 *
 * <p>Not modelled: torn sectors inside a synced range, reordering of writes within an fsync
 * interval (a power loss keeps none of a file's unsynced bytes, never a part of them), metadata
 * such as sizes and times apart from content, and memory maps opened for writing (refused).
 * Production code reaches the disk through {@link SimDiskFileSystem}'s paths; real I/O still
 * happens on the real files, and the real fsync is skipped (durability is what this model says).
 */
final class SimDisk {
  private static final LinkOption[] NOFOLLOW = {LinkOption.NOFOLLOW_LINKS};

  /** One file or directory, by identity: names are in its parents' entries. */
  private static final class Node {
    final boolean dir;
    /** Files: the durable content when it is not a prefix of the current one (null: {@link #prefix}). */
    byte[] bytes;
    /** Files: while {@link #bytes} is null, the durable content is the first {@code prefix} bytes of the real file. */
    long prefix;
    /** Files: ranges written since the last fsync (what the page cache holds dirty). */
    final List<long[]> dirty = new ArrayList<>();
    /** Files: ranges a failed fsync dropped and nothing has written since. */
    final List<long[]> lost = new ArrayList<>();
    /** Directories: the durable entries, or null while they are the current ones. */
    Map<String, Node> entries;
    /** Files: a name it had last time the disk looked (renames and links follow it). */
    Path at;

    Node(boolean dir) {
      this.dir = dir;
    }
  }

  /** Nodes of the files and directories that exist now, by the real file system's file key. */
  private final Map<Object, Node> live = new HashMap<>();
  private final SimDiskFileSystem fs = new SimDiskFileSystem(this);
  private volatile Predicate<Path> failing = p -> false;
  private long failedFsyncs;

  /** {@code real} (a directory taken as durable as it is) as a path production code writes through this disk. */
  Path path(Path real) {
    return fs.wrap(real);
  }

  /** From now on fsyncs of the regular files {@code which} accepts fail with EIO (null: none fail). */
  void failFsyncs(Predicate<Path> which) {
    failing = which == null ? p -> false : which;
  }

  synchronized long failedFsyncs() {
    return failedFsyncs;
  }

  // --- operations production code makes through the file system --------------------------------

  synchronized FileChannel open(Path real, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
      throws IOException {
    boolean exists = Files.exists(real, NOFOLLOW);
    boolean writes = options.contains(StandardOpenOption.WRITE) || options.contains(StandardOpenOption.APPEND);
    boolean creates = !exists && writes
        && (options.contains(StandardOpenOption.CREATE) || options.contains(StandardOpenOption.CREATE_NEW));
    Node node = null;
    if (creates) {
      entriesChanging(real.getParent());
    } else if (exists) {
      node = liveNode(real);
      if (!node.dir && writes && options.contains(StandardOpenOption.TRUNCATE_EXISTING)) {
        keepDurable(node, real, 0);
        node.dirty.add(new long[] {0, Long.MAX_VALUE});
      }
    }
    FileChannel ch = FileChannel.open(real, options, attrs);
    if (node == null) {
      node = new Node(false);
      node.at = real;
      live.put(key(real), node);
    }
    return new Channel(node, real, ch, options.contains(StandardOpenOption.APPEND));
  }

  synchronized void createDirectory(Path real, FileAttribute<?>... attrs) throws IOException {
    entriesChanging(real.getParent());
    Files.createDirectory(real, attrs);
    Node n = new Node(true);
    n.entries = new TreeMap<>();
    live.put(key(real), n);
  }

  synchronized void createLink(Path link, Path existing) throws IOException {
    entriesChanging(link.getParent());
    liveNode(existing);
    Files.createLink(link, existing);
  }

  synchronized void delete(Path real) throws IOException {
    Object key = key(real);
    Node n = liveNode(real);
    entriesChanging(real.getParent());
    boolean last = unlinking(n, real);
    Files.delete(real);
    if (last) {
      live.remove(key);
    }
  }

  synchronized void copy(Path source, Path target, CopyOption... options) throws IOException {
    entriesChanging(target.getParent());
    Object replacedKey = null;
    if (Files.exists(target, NOFOLLOW)) {
      replacedKey = key(target);
      if (!unlinking(liveNode(target), target)) {
        replacedKey = null;
      }
    }
    Files.copy(source, target, options);
    if (replacedKey != null) {
      live.remove(replacedKey);
    }
    Node n = new Node(Files.isDirectory(target, NOFOLLOW));
    n.at = target;
    if (n.dir) {
      n.entries = new TreeMap<>();
    } else {
      n.dirty.add(new long[] {0, Long.MAX_VALUE});
    }
    live.put(key(target), n);
  }

  synchronized void move(Path source, Path target, CopyOption... options) throws IOException {
    Node moved = liveNode(source);
    entriesChanging(source.getParent());
    entriesChanging(target.getParent());
    Object replacedKey = null;
    if (Files.exists(target, NOFOLLOW) && !key(target).equals(key(source))) {
      replacedKey = key(target);
      if (!unlinking(liveNode(target), target)) {
        replacedKey = null;
      }
    }
    Files.move(source, target, options);
    if (replacedKey != null) {
      live.remove(replacedKey);
    }
    moved.at = target;
  }

  // --- the model --------------------------------------------------------------------------------

  private static Object key(Path real) throws IOException {
    return Files.readAttributes(real, BasicFileAttributes.class, NOFOLLOW).fileKey();
  }

  /** The node of an existing path; one first seen is durable as it is (it predates this disk). */
  private Node liveNode(Path real) throws IOException {
    BasicFileAttributes a = Files.readAttributes(real, BasicFileAttributes.class, NOFOLLOW);
    Node n = live.get(a.fileKey());
    if (n == null) {
      n = new Node(a.isDirectory());
      n.prefix = a.isDirectory() ? 0 : a.size();
      live.put(a.fileKey(), n);
    }
    n.at = real;
    return n;
  }

  /** The directory's entries are about to change: its durable ones are taken now if they were the current ones. */
  private void entriesChanging(Path dir) throws IOException {
    Node d = liveNode(dir);
    if (d.entries == null) {
      d.entries = listing(dir);
    }
  }

  private Map<String, Node> listing(Path dir) throws IOException {
    Map<String, Node> out = new TreeMap<>();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        out.put(p.getFileName().toString(), liveNode(p));
      }
    }
    return out;
  }

  /** A name of {@code n} goes; returns whether it was the last (the node then leaves {@link #live}). */
  private boolean unlinking(Node n, Path real) throws IOException {
    if (n.dir) {
      if (n.entries == null) {
        n.entries = listing(real);
      }
      return true;
    }
    Object links = Files.getAttribute(real, "unix:nlink", NOFOLLOW);
    boolean last = !(links instanceof Integer i) || i <= 1;
    if (last) {
      keepDurable(n, real, 0); // its content must outlive the file, for a directory that still names it
    }
    return last;
  }

  /**
   * Before bytes from {@code from} on change: a durable content that is the current file's prefix
   * reaching past {@code from} is copied out first.
   */
  private static void keepDurable(Node n, Path real, long from) throws IOException {
    if (n.bytes == null && from < n.prefix) {
      n.bytes = readPrefix(real, n.prefix);
    }
  }

  private static byte[] readPrefix(Path real, long length) throws IOException {
    byte[] out = new byte[Math.toIntExact(length)];
    try (InputStream in = Files.newInputStream(real)) {
      int off = 0;
      while (off < out.length) {
        int r = in.read(out, off, out.length - off);
        if (r < 0) {
          throw new IllegalStateException("simulated disk: " + real + " is shorter than its durable " + length
              + " bytes");
        }
        off += r;
      }
    }
    return out;
  }

  private static byte[] durable(Node n, Path current) throws IOException {
    return n.bytes != null ? n.bytes : readPrefix(current, n.prefix);
  }

  private synchronized void written(Node n, long pos, long len) throws IOException {
    if (len <= 0) {
      return;
    }
    keepDurable(n, n.at, pos);
    long[] r = {pos, pos + len};
    n.dirty.add(r);
    // Rewritten bytes are dirty again, no longer lost: a later fsync writes them.
    List<long[]> kept = new ArrayList<>();
    for (long[] l : n.lost) {
      if (l[1] <= r[0] || l[0] >= r[1]) {
        kept.add(l);
      } else {
        if (l[0] < r[0]) {
          kept.add(new long[] {l[0], r[0]});
        }
        if (l[1] > r[1]) {
          kept.add(new long[] {r[1], l[1]});
        }
      }
    }
    n.lost.clear();
    n.lost.addAll(kept);
  }

  private synchronized void synced(Node n, Path opened, FileChannel ch, boolean directory) throws IOException {
    if (!directory && failing.test(opened)) {
      failedFsyncs++;
      n.lost.addAll(n.dirty);
      n.dirty.clear();
      throw new IOException("Input/output error (injected by the simulated disk)");
    }
    if (directory) {
      n.entries = null;
      return;
    }
    if (n.lost.isEmpty()) {
      n.bytes = null;
      n.prefix = ch.size();
    } else {
      byte[] before = durable(n, n.at);
      byte[] now = Files.readAllBytes(n.at);
      for (long[] l : n.lost) {
        for (long i = l[0]; i < Math.min(l[1], now.length); i++) {
          now[(int) i] = i < before.length ? before[(int) i] : 0;
        }
      }
      n.bytes = now;
    }
    n.dirty.clear();
  }

  /**
   * Writes the tree under {@code realRoot} as the disk would hold it after a power loss now into
   * {@code target} (which must not exist). Lock files are left out, as the crash image is.
   */
  synchronized void powerImage(Path realRoot, Path target) throws IOException {
    Map<Node, Path> where = new IdentityHashMap<>();
    try (Stream<Path> walk = Files.walk(realRoot)) {
      for (Path p : walk.toList()) {
        where.putIfAbsent(liveNode(p), p);
      }
    }
    Files.createDirectories(target);
    image(liveNode(realRoot), where, target);
  }

  private void image(Node dir, Map<Node, Path> where, Path target) throws IOException {
    Map<String, Node> entries = dir.entries != null ? dir.entries : listing(where.get(dir));
    for (Map.Entry<String, Node> e : entries.entrySet()) {
      String name = e.getKey();
      Node n = e.getValue();
      Path to = target.resolve(name);
      if (n.dir) {
        Files.createDirectory(to);
        image(n, where, to);
      } else if (!name.endsWith(".lock")) {
        Path at = where.get(n);
        byte[] durable;
        if (n.bytes != null) {
          durable = n.bytes;
        } else if (n.prefix == 0) {
          // Named in a synced directory, its content never synced (a file deleted since, say): empty.
          durable = new byte[0];
        } else if (at != null) {
          durable = readPrefix(at, n.prefix);
        } else {
          throw new IllegalStateException("simulated disk: no durable content for " + to);
        }
        Files.write(to, durable);
      }
    }
  }

  /** A real channel whose writes and fsyncs the disk hears of. */
  private final class Channel extends FileChannel {
    private final Node node;
    private final Path real;
    private final FileChannel ch;
    private final boolean append;

    Channel(Node node, Path real, FileChannel ch, boolean append) {
      this.node = node;
      this.real = real;
      this.ch = ch;
      this.append = append;
    }

    private long at() throws IOException {
      return append ? ch.size() : ch.position();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return ch.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
      return ch.read(dsts, offset, length);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      synchronized (SimDisk.this) {
        written(node, at(), src.remaining());
        return ch.write(src);
      }
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      synchronized (SimDisk.this) {
        long n = 0;
        for (int i = offset; i < offset + length; i++) {
          n += srcs[i].remaining();
        }
        written(node, at(), n);
        return ch.write(srcs, offset, length);
      }
    }

    @Override
    public long position() throws IOException {
      return ch.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
      ch.position(newPosition);
      return this;
    }

    @Override
    public long size() throws IOException {
      return ch.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      synchronized (SimDisk.this) {
        written(node, size, Math.max(0, ch.size() - size));
        ch.truncate(size);
        return this;
      }
    }

    @Override
    public void force(boolean metaData) throws IOException {
      if (!isOpen()) {
        throw new java.nio.channels.ClosedChannelException();
      }
      synced(node, real, ch, node.dir);
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
      return ch.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
      ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(Math.min(count, 1 << 20)));
      long done = 0;
      while (done < count) {
        buf.clear().limit((int) Math.min(buf.capacity(), count - done));
        int r = src.read(buf);
        if (r <= 0) {
          break;
        }
        buf.flip();
        while (buf.hasRemaining()) {
          done += write(buf, position + done);
        }
      }
      return done;
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return ch.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      synchronized (SimDisk.this) {
        written(node, position, src.remaining());
        return ch.write(src, position);
      }
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
      if (mode != MapMode.READ_ONLY) {
        throw new UnsupportedOperationException("the simulated disk does not model writable memory maps: " + real);
      }
      return ch.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
      return ch.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      return ch.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
      ch.close();
    }
  }
}
