package dev.arbor.repair.tree;

import dev.arbor.runtime.NodeRuntime;
import dev.arbor.runtime.Ticker;
import dev.arbor.runtime.WallClock;
import dev.arbor.errors.UnavailableException;
import dev.arbor.repair.tree.BuildResult.Outcome;
import dev.arbor.property.Names;
import dev.arbor.storage.DurableDirectories;
import dev.arbor.storage.FileTrees;
import dev.arbor.storage.NamedPaths;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardDirs;
import dev.arbor.storage.ShardIndex;
import dev.arbor.storage.StoreListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.lucene.index.IndexCommit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The repair trees of one node: where their files live ({@code repair/<group>/shard-<N>/}),
 * which tree each shard serves, and how a tree is (re)built from a Lucene snapshot. At most one
 * build per shard runs at a time; a concurrent request is answered {@link Outcome#BUSY}. A tree
 * or state file that fails a check is logged, deleted and rebuilt — never served.
 *
 * <p>After its first build in this process (or, for a shard created empty here, from its creation;
 * after a restart, from its journal) a shard's tree is <b>live</b>: every record the store writes
 * updates its slot hash ({@link LiveTree}), so sessions use it at once instead of waiting for a
 * rebuild. Its journal ({@link LiveJournal}) gets one appended block per store checkpoint. The build's commit is taken with writes held off and the notices of writes after
 * it are replayed onto the new checkpoint, so no write is missed or counted twice. Changes the
 * store cannot describe per record (tombstone purge, bulk attach) end the live state; the next
 * session rebuilds. Every later build doubles as a <b>scrub</b>: the tree built from a snapshot is
 * compared with the live one, and a difference is counted, logged and healed (the built tree
 * replaces it).
 */
public final class RepairTrees implements StoreListener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RepairTrees.class);
  static final String TREE_FILE = "tree.bin";
  static final String STATE_FILE = "state.json";

  private final Path root;
  private final PropertyStore store;
  private final int slotCount;
  private final Map<String, ServedTree> served = new ConcurrentHashMap<>();
  private final Map<String, ReentrantLock> buildLocks = new ConcurrentHashMap<>();
  private final Map<String, Boolean> needsBuild = new ConcurrentHashMap<>();
  /** The shard's change count when its served tree's snapshot was taken (this process only). */
  private final Map<String, Long> builtAtChange = new ConcurrentHashMap<>();
  private volatile boolean closed;
  /** Guards {@link #live}, {@link #pending} and {@link #untracked}: a write's notice is short. */
  private final Object liveLock = new Object();
  private final Map<String, LiveTree> live = new java.util.HashMap<>();
  /** Notices (entity, before, after) recorded since a running build's commit, by shard. */
  private final Map<String, List<byte[][]>> pending = new java.util.HashMap<>();
  /** Shards whose running build saw a change without per-record notices: it must not go live. */
  private final java.util.Set<String> untracked = new java.util.HashSet<>();
  /** Set once this listens to the store's notices: only then may a tree go live. */
  private volatile boolean following;
  /** Shards in the middle of a change without per-record notices: they must not go live. */
  private final java.util.Set<String> suspended = new java.util.HashSet<>();
  /** The journal writer of each live tree (replaced with the tree: a journal never outlives its state). */
  private final Map<String, LiveJournalWriter> writers = new java.util.HashMap<>();
  /** Leaves written since the checkpoint above which a live tree asks for a scrub (which resets them). */
  private final long maxOverlayLeaves;
  private final AtomicLong journalWrites = new AtomicLong();
  private final AtomicLong journalCompactions = new AtomicLong();
  private final AtomicLong journalLockNanos = new AtomicLong();
  /** Leaves per second a scrub (a build of a live shard) reads at most; 0 = unthrottled. */
  private final long scrubLeavesPerSecond;
  private final AtomicLong resumed = new AtomicLong();
  private final AtomicLong resumeFailures = new AtomicLong();
  private final AtomicLong scrubMismatches = new AtomicLong();
  private final AtomicLong scrubbedLeaves = new AtomicLong();

  private final AtomicLong buildsFinished = new AtomicLong();
  private final AtomicLong buildsFailed = new AtomicLong();
  private final AtomicLong buildsBusy = new AtomicLong();
  private final AtomicLong buildNanos = new AtomicLong();

  /** Builds that produced a tree (BUILT or EMPTY). */
  public long buildsFinished() {
    return buildsFinished.get();
  }

  public long buildsFailed() {
    return buildsFailed.get();
  }

  /** Build requests skipped because one was already running for the shard. */
  public long buildsBusy() {
    return buildsBusy.get();
  }

  /** Total wall time of finished builds. */
  public long buildNanos() {
    return buildNanos.get();
  }

  /** Builds whose tree differed from the live (incremental) one they replaced. */
  public long scrubMismatches() {
    return scrubMismatches.get();
  }

  /** Leaves read from snapshots by builds (every build is a scrub of a live tree). */
  public long scrubbedLeaves() {
    return scrubbedLeaves.get();
  }

  /** Live trees resumed after a restart from their journal and the WAL, without a build. */
  public long resumed() {
    return resumed.get();
  }

  /**
   * Journals found unusable after a restart (corrupt, of another tree file, or older than the WAL
   * the store replayed): deleted, and the shard's tree is rebuilt before it goes live again.
   */
  public long resumeFailures() {
    return resumeFailures.get();
  }

  /** Journals persisted (whole files and appended blocks). */
  public long journalWrites() {
    return journalWrites.get();
  }

  /** Journals rewritten whole because their appended blocks outgrew the state. */
  public long journalCompactions() {
    return journalCompactions.get();
  }

  /** Total time writes were held off while journals captured the live state. */
  public long journalLockNanos() {
    return journalLockNanos.get();
  }

  /**
   * True when (group, shard)'s live tree holds more leaves written since its checkpoint than the
   * bound: a scrub (any build) makes a new checkpoint and resets them.
   */
  public boolean overlayFull(String group, int shard) {
    synchronized (liveLock) {
      LiveTree t = live.get(key(group, shard));
      return t != null && t.writtenLeaves() > maxOverlayLeaves;
    }
  }

  /** True when (group, shard)'s tree follows every write (no rebuild needed before a session). */
  public boolean isLive(String group, int shard) {
    synchronized (liveLock) {
      return live.containsKey(key(group, shard));
    }
  }

  /** Shards whose tree is live. */
  public int liveTrees() {
    synchronized (liveLock) {
      return live.size();
    }
  }

  /** Shards currently serving a tree. */
  public int servedTrees() {
    return served.size();
  }

  public RepairTrees(Path root, PropertyStore store, int slotCount) {
    this(root, store, slotCount, 0);
  }

  /**
   * @param scrubLeavesPerSecond leaves per second a build of a live shard (a scrub) reads at most;
   *     0 = as fast as it can. Builds of shards that are not live are never throttled: a session
   *     may be waiting for them.
   */
  public RepairTrees(Path root, PropertyStore store, int slotCount, long scrubLeavesPerSecond) {
    this(root, store, slotCount, scrubLeavesPerSecond, DEFAULT_MAX_OVERLAY_LEAVES);
  }

  private final Ticker ticker;
  private final WallClock wallClock;

  /** Default of {@code --tree-live-max-overlay}. */
  public static final long DEFAULT_MAX_OVERLAY_LEAVES = 250_000;

  /**
   * @param maxOverlayLeaves leaves written since a live tree's checkpoint (its tree file) above
   *     which it asks for a scrub ({@link #overlayFull}): the scrub's build becomes the new
   *     checkpoint, which bounds the tree's memory and the size of its journal
   */
  public RepairTrees(Path root, PropertyStore store, int slotCount, long scrubLeavesPerSecond, long maxOverlayLeaves) {
    this(NodeRuntime.system(), root, store, slotCount, scrubLeavesPerSecond, maxOverlayLeaves);
  }

  /** @param runtime the node's clocks: build times (wall) and build durations (ticker) */
  public RepairTrees(NodeRuntime runtime, Path root, PropertyStore store, int slotCount, long scrubLeavesPerSecond,
      long maxOverlayLeaves) {
    this.ticker = runtime.ticker();
    this.wallClock = runtime.wallClock();
    if (maxOverlayLeaves <= 0) {
      throw new IllegalArgumentException("the live tree overlay bound must be > 0");
    }
    this.maxOverlayLeaves = maxOverlayLeaves;
    if (slotCount <= 0) {
      throw new IllegalArgumentException("tree slot count must be > 0");
    }
    if (scrubLeavesPerSecond < 0) {
      throw new IllegalArgumentException("scrub rate must be >= 0");
    }
    this.root = root;
    this.store = store;
    this.slotCount = slotCount;
    this.scrubLeavesPerSecond = scrubLeavesPerSecond;
  }

  public int slotCount() {
    return slotCount;
  }

  /**
   * Listens to the store's notices ({@code events} must be the listener the store was opened
   * with) and from then on keeps every built tree live. Without it every session waits for a
   * rebuild of a changed shard, as a tree nobody tells of writes would silently go stale.
   */
  public void followWrites(dev.arbor.storage.StoreEvents events) {
    List<String> resumedNow = new ArrayList<>();
    synchronized (liveLock) {
      events.subscribe(this);
      following = true;
      // Under the lock: a write's notice waits until every resumed tree includes the recovery.
      for (String k : List.copyOf(served.keySet())) {
        if (resume(k)) {
          resumedNow.add(k);
        }
      }
    }
    store.forgetRecoveredWal();
    for (String k : resumedNow) {
      persistJournal(k);
    }
  }

  /**
   * Makes a loaded tree live again from its journal (the incremental state persisted at the last
   * checkpoint) without a build: the journal must extend exactly the loaded tree file, and the WAL
   * the store replayed at open must start at or before the journal's segment, so every write after
   * the journal's capture was replayed; the keys of those records are then re-read from the index.
   * Anything else is counted, logged, and the journal deleted: the tree file stays the served
   * checkpoint and is rebuilt before it goes live.
   */
  private boolean resume(String k) {
    int cut = k.lastIndexOf('/');
    String group = k.substring(0, cut);
    int shard = Integer.parseInt(k.substring(cut + 1));
    Path dir = shardDir(group, shard);
    LiveTree t = null;
    try {
      Optional<LiveJournal.Read> read = LiveJournal.read(dir, slotCount);
      if (read.isEmpty()) {
        return false;
      }
      LiveJournal j = read.get().journal();
      if (read.get().tornBytes() > 0) {
        LOG.info("the journal of the repair tree of {} ends in a torn block ({} bytes, a crash during an append);"
            + " its {} whole block(s) are used", k, read.get().tornBytes(), read.get().blocks());
      }
      ServedTree cp = served.get(k);
      TreeSummary s = cp == null ? null : cp.summary();
      if (s == null || s.header().snapshotId() != j.checkpointSnapshotId() || s.leafCount() != j.checkpointLeafCount()
          || !Arrays.equals(s.root(), j.checkpointRoot())) {
        throw new CorruptTreeException("the journal extends another tree file (snapshot " + j.checkpointSnapshotId()
            + ") than the one on disk (" + (s == null ? "none" : "snapshot " + s.header().snapshotId()) + ")");
      }
      dev.arbor.storage.RecoveredWal wal = store.recoveredWal();
      if (!wal.replayedFrom(j.walSegment())) {
        throw new CorruptTreeException("the journal was captured at WAL segment " + j.walSegment()
            + ", but the store replayed segments " + wal.firstSegment() + ".." + wal.lastSegment()
            + " (writes after the capture may be missing)");
      }
      if (!cp.retain()) {
        return false;
      }
      t = new LiveTree(cp, j);
      java.util.TreeMap<byte[], byte[]> now = new java.util.TreeMap<>(Arrays::compareUnsigned);
      for (dev.arbor.property.EntityKey key : wal.keys(group, shard)) {
        dev.arbor.property.PropertyRecord r = store.latest(group, shard, key);
        now.put(key.entityUtf8(), r == null ? null : r.sha());
      }
      int changed = t.reconcile(now);
      live.put(k, t);
      // The first persist rewrites the journal whole: it drops a torn tail and starts the appends afresh.
      newWriter(k);
      ShardIndex idx = store.existingShard(group, shard);
      if (idx != null) {
        // Current as of now: the start-up build of unchanged shards skips it; the schedule scrubs it.
        builtAtChange.put(k, idx.changeCount());
      }
      resumed.incrementAndGet();
      LOG.info("repair tree of {} is live again from its journal ({} leaves written since its build, {} re-read"
          + " after the WAL replay); no rebuild", k, t.writtenLeaves(), changed);
      return true;
    } catch (IOException | RuntimeException e) {
      if (t != null) {
        t.close();
      }
      resumeFailures.incrementAndGet();
      LOG.warn("the incremental state of the repair tree of {} is unusable ({}); it will be rebuilt before it is live"
          + " again", k, e.getMessage());
      try {
        LiveJournal.delete(dir);
      } catch (IOException d) {
        LOG.warn("deleting the journal of {} failed", k, d);
      }
      return false;
    }
  }

  /**
   * Persists the live state of {@code k} (a no-op when not live), stamped with the WAL segment
   * current under the lock: every write after the capture is logged in that segment or a later
   * one (a write's notice comes after its WAL append, under the store's write gate, which a
   * segment roll takes exclusively). Usually appends only what changed since the previous capture
   * (the lock is held to hand that over, not to copy the state); the first time for a tree, and
   * after a failed append, writes the whole state, renamed into place only if the tree was not
   * ended or replaced meanwhile, so a journal never outlives the state it describes.
   */
  private void persistJournal(String k) {
    LiveJournalWriter w;
    synchronized (liveLock) {
      w = writers.get(k);
    }
    if (w == null) {
      return;
    }
    // Held from capture to append: blocks land in capture order.
    w.lock().lock();
    try {
      if (w.retired()) {
        return;
      }
      LiveJournal whole = null;
      LiveJournal.Delta delta = null;
      long t0 = ticker.read();
      synchronized (liveLock) {
        LiveTree t = live.get(k);
        if (t == null || writers.get(k) != w) {
          return;
        }
        long seg = store.walSegment();
        if (w.needsWhole()) {
          whole = t.capture(seg);
        } else {
          delta = t.captureDelta(seg);
        }
      }
      journalLockNanos.addAndGet(ticker.read() - t0);
      LiveJournalWriter.Publisher publish = tmp -> {
        synchronized (liveLock) {
          if (writers.get(k) != w || !live.containsKey(k)) {
            return false;
          }
          LiveJournal.publish(tmp);
          return true;
        }
      };
      if (whole != null) {
        w.writeWhole(whole, publish);
      } else {
        w.append(delta);
        if (w.shouldCompact()) {
          w.compact(publish);
          journalCompactions.incrementAndGet();
        }
      }
      journalWrites.incrementAndGet();
    } catch (IOException | RuntimeException e) {
      // The previous journal stays; its segment is deleted by this checkpoint, so it is refused
      // at the next start and the tree rebuilt: never wrong, only slower. The next capture is whole.
      LOG.warn("persisting the incremental state of the repair tree of {} failed", k, e);
    } finally {
      if (w.retired()) {
        w.close();
      }
      w.lock().unlock();
    }
  }

  /** Gives {@code k}'s new live tree its own journal writer, retiring the previous one. Under {@link #liveLock}. */
  private void newWriter(String k) {
    int cut = k.lastIndexOf('/');
    LiveJournalWriter old = writers.put(k,
        new LiveJournalWriter(shardDir(k.substring(0, cut), Integer.parseInt(k.substring(cut + 1))), slotCount));
    if (old != null) {
      old.retire();
    }
  }

  @Override
  public void beforeWalTruncated() {
    List<String> keys;
    synchronized (liveLock) {
      keys = List.copyOf(live.keySet());
    }
    for (String k : keys) {
      persistJournal(k);
    }
  }

  @Override
  public void beforeUntrackedChange(String group, int shard) {
    String k = key(group, shard);
    synchronized (liveLock) {
      suspended.add(k);
      endLive(k);
      if (pending.containsKey(k)) {
        untracked.add(k);
      }
    }
    try {
      Path dir = shardDir(group, shard);
      if (Files.isDirectory(dir)) {
        LiveJournal.sync(dir);
      }
    } catch (IOException e) {
      LOG.warn("syncing the repair directory of {} failed", k, e);
    }
  }

  /** The directory holding a shard's tree and state. */
  public Path shardDir(String group, int shard) {
    return ShardDirs.of(root, group, shard);
  }

  /**
   * Loads every persisted tree, checking each file completely. Leftovers of interrupted builds
   * are removed; corrupt or inconsistent trees are deleted and marked for rebuild; trees of
   * groups that no longer exist are removed.
   */
  public void loadExisting(Predicate<String> groupExists) throws IOException {
    if (!Files.isDirectory(root)) {
      return;
    }
    try (Stream<Path> groups = Files.list(root)) {
      for (Path g : groups.filter(Files::isDirectory).toList()) {
        String group = g.getFileName().toString();
        if (!Names.isValidName(group)) {
          LOG.warn("ignoring unexpected entry {} in the repair directory", g);
          continue;
        }
        if (!groupExists.test(group)) {
          LOG.info("removing repair trees of group {} which no longer exists", group);
          FileTrees.deleteRecursively(g);
          continue;
        }
        try (Stream<Path> shards = Files.list(g)) {
          for (Path s : shards.toList()) {
            Integer shard = ShardDirs.shardOf(s);
            if (shard == null) {
              // The repair directory holds derived data only: junk is skipped, never fatal.
              LOG.warn("ignoring unexpected entry {} in the repair directory", s);
              continue;
            }
            loadShard(group, shard, s);
          }
        }
      }
    }
  }

  private void loadShard(String group, int shard, Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : files.toList()) {
        String n = p.getFileName().toString();
        if (n.startsWith("build-") || n.endsWith(".tmp")) {
          FileTrees.deleteRecursively(p);
        }
      }
    }
    Path tree = dir.resolve(TREE_FILE);
    Path state = dir.resolve(STATE_FILE);
    try {
      Optional<BuildState> st = BuildStateFile.read(state);
      if (st.isEmpty()) {
        if (Files.exists(tree)) {
          throw new CorruptTreeException(tree + ": tree without build state");
        }
        return;
      }
      BuildState s = st.get();
      if (s.slotCount() != slotCount) {
        throw new CorruptTreeException(
            "tree of " + group + "/" + shard + " has " + s.slotCount() + " slots, configured " + slotCount);
      }
      if (s.leafCount() == 0) {
        if (Files.exists(tree)) {
          throw new CorruptTreeException(tree + ": state says empty but a tree file exists");
        }
        publish(group, shard, new ServedTree(emptySummary(group, shard, s.snapshotId(), 0), null));
        return;
      }
      TreeFileReader r = TreeFileReader.open(tree);
      if (r.formatVersion() != TreeFileReader.CURRENT_FORMAT) {
        // Migration: an older format slots and hashes leaves differently; its root never equals a
        // current tree's, so comparing it would "repair" everything. Rebuilt, never served.
        r.close();
        LOG.info("repair tree of {}/{} is of format {}, this build uses format {}: it will be rebuilt", group, shard,
            r.formatVersion(), TreeFileReader.CURRENT_FORMAT);
        Files.deleteIfExists(tree);
        Files.deleteIfExists(state);
        LiveJournal.delete(dir);
        needsBuild.put(key(group, shard), Boolean.TRUE);
        return;
      }
      try {
        TreeHeader h = r.header();
        long leaves = r.verifyAll();
        if (h.snapshotId() != s.snapshotId() || leaves != s.leafCount()
            || !TreeHasher.hex(r.root()).equals(s.root()) || !h.group().equals(group) || h.shard() != shard) {
          throw new CorruptTreeException(tree + ": tree file and build state disagree");
        }
      } catch (IOException | RuntimeException e) {
        r.close();
        throw e;
      }
      publish(group, shard, new ServedTree(r.summary(), r));
    } catch (IOException | UncheckedIOException e) {
      LOG.warn("repair tree of {}/{} is unusable ({}); it will be rebuilt", group, shard, e.getMessage());
      Files.deleteIfExists(tree);
      Files.deleteIfExists(state);
      LiveJournal.delete(dir);
      needsBuild.put(key(group, shard), Boolean.TRUE);
    }
  }

  /**
   * The tree a shard serves, retained: close it when done. Empty when the shard has no tree yet
   * (never built, or its last tree was unusable).
   */
  public Optional<ServedTree> acquire(String group, int shard) {
    synchronized (liveLock) {
      LiveTree t = live.get(key(group, shard));
      if (t != null) {
        return Optional.of(t.view());
      }
    }
    while (true) {
      ServedTree t = served.get(key(group, shard));
      if (t == null) {
        return Optional.empty();
      }
      if (t.retain()) {
        return Optional.of(t);
      }
    }
  }

  /** Summary of the served tree, if any. */
  public Optional<TreeSummary> summary(String group, int shard) {
    synchronized (liveLock) {
      LiveTree l = live.get(key(group, shard));
      if (l != null) {
        return Optional.of(l.summary());
      }
    }
    ServedTree t = served.get(key(group, shard));
    return t == null ? Optional.empty() : Optional.of(t.summary());
  }

  /** Shards whose tree was found unusable at load and waits for a rebuild. */
  public List<String> pendingRebuilds() {
    return List.copyOf(needsBuild.keySet());
  }

  /** Builds every shard of this node; unchanged shards are skipped unless forced. */
  public List<BuildResult> buildAll(boolean force) {
    List<BuildResult> out = new ArrayList<>();
    List<ShardIndex> shards = new ArrayList<>(store.allShards());
    shards.sort(Comparator.comparing(ShardIndex::group).thenComparingInt(ShardIndex::shard));
    for (ShardIndex s : shards) {
      out.add(build(s.group(), s.shard(), force));
    }
    return out;
  }

  /** Builds the tree of one shard from a fresh snapshot (skipped when unchanged unless forced). */
  public BuildResult build(String group, int shard, boolean force) {
    long t0 = ticker.read();
    String k = key(group, shard);
    ReentrantLock lock = buildLocks.computeIfAbsent(k, x -> new ReentrantLock());
    if (!lock.tryLock()) {
      buildsBusy.incrementAndGet();
      return new BuildResult(group, shard, Outcome.BUSY, null, -1, ticker.read() - t0,
          "another build of this shard is running");
    }
    try {
      if (closed) {
        return new BuildResult(group, shard, Outcome.CANCELLED, null, -1, 0, "shutting down");
      }
      // A build of a live shard is a scrub: nobody waits for it, so it honours the rate.
      BuildResult r = buildLocked(group, shard, force, t0, isLive(group, shard) ? scrubLeavesPerSecond : 0);
      if (r.outcome() == Outcome.BUILT || r.outcome() == Outcome.EMPTY) {
        buildsFinished.incrementAndGet();
        buildNanos.addAndGet(r.durationNanos());
        needsBuild.remove(k);
      }
      return r;
    } catch (BuildCancelled e) {
      return new BuildResult(group, shard, Outcome.CANCELLED, null, -1, ticker.read() - t0, "shutting down");
    } catch (UnavailableException e) {
      // A shard out of service: logged once by the shard itself, not again at every scheduled build.
      buildsFailed.incrementAndGet();
      return new BuildResult(group, shard, Outcome.FAILED, summary(group, shard).orElse(null), -1,
          ticker.read() - t0, e.getMessage());
    } catch (IOException | RuntimeException e) {
      buildsFailed.incrementAndGet();
      LOG.error("building the repair tree of {}/{} failed", group, shard, e);
      return new BuildResult(group, shard, Outcome.FAILED, summary(group, shard).orElse(null), -1,
          ticker.read() - t0, String.valueOf(e.getMessage()));
    } finally {
      lock.unlock();
    }
  }

  /**
   * Makes the served tree reflect the shard as it is now, waiting up to {@code wait} for a build
   * already running: a live tree is current already; otherwise builds from a fresh snapshot unless
   * the served tree was built from the current commit. Repair sessions call this first, so they
   * never compare stale trees.
   *
   * @throws TreeUnavailableException when the tree cannot be built (I/O error, shutdown, or
   *     another build holding the shard longer than {@code wait})
   * @throws dev.arbor.errors.UnavailableException when the shard is out of service after a fatal
   *     index error
   */
  public TreeSummary ensureCurrent(String group, int shard, java.time.Duration wait) {
    long t0 = ticker.read();
    String k = key(group, shard);
    if (!closed) {
      synchronized (liveLock) {
        LiveTree l = live.get(k);
        if (l != null) {
          return l.summary();
        }
      }
    }
    ReentrantLock lock = buildLocks.computeIfAbsent(k, x -> new ReentrantLock());
    try {
      if (!lock.tryLock(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
        throw new TreeUnavailableException(
            "tree of " + k + " is being built by another task for longer than " + wait);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TreeUnavailableException("interrupted waiting for the tree of " + k);
    }
    try {
      if (closed) {
        throw new TreeUnavailableException("node is shutting down");
      }
      BuildResult r = buildLocked(group, shard, needsBuild.containsKey(k), t0, 0);
      if (r.outcome() == Outcome.BUILT || r.outcome() == Outcome.EMPTY) {
        buildsFinished.incrementAndGet();
        buildNanos.addAndGet(r.durationNanos());
        needsBuild.remove(k);
      }
      return r.summary();
    } catch (BuildCancelled e) {
      throw new TreeUnavailableException("node is shutting down");
    } catch (IOException | RuntimeException e) {
      if (e instanceof TreeUnavailableException || e instanceof UnavailableException) {
        // A shard out of service says so itself, naming the shard and the way back.
        throw (RuntimeException) e;
      }
      buildsFailed.incrementAndGet();
      LOG.error("building the repair tree of {} failed", k, e);
      throw new TreeUnavailableException("building the tree of " + k + " failed: " + e.getMessage());
    } finally {
      lock.unlock();
    }
  }

  /**
   * Stops serving a shard's tree and deletes its files because a reader found it corrupt; the
   * next {@link #ensureCurrent} or scheduled build rebuilds it from the index.
   */
  public void invalidate(String group, int shard, String why) {
    String k = key(group, shard);
    LOG.warn("repair tree of {} is unusable ({}); it will be rebuilt", k, why);
    ReentrantLock lock = buildLocks.computeIfAbsent(k, x -> new ReentrantLock());
    lock.lock();
    try {
      needsBuild.put(k, Boolean.TRUE);
      builtAtChange.remove(k);
      endLive(k);
      ServedTree old = served.remove(k);
      if (old != null) {
        old.close();
      }
      Path dir = shardDir(group, shard);
      Files.deleteIfExists(dir.resolve(TREE_FILE));
      Files.deleteIfExists(dir.resolve(STATE_FILE));
    } catch (IOException e) {
      LOG.warn("deleting the unusable tree of {} failed", k, e);
    } finally {
      lock.unlock();
    }
  }

  private BuildResult buildLocked(String group, int shard, boolean force, long t0, long leavesPerSecond)
      throws IOException {
    ShardIndex idx = store.existingShard(group, shard);
    Path dir = shardDir(group, shard);
    if (idx != null) {
      // Before the unchanged shortcut: a tree of a shard out of service must not be served either.
      idx.ensureServing();
    }
    if (idx == null) {
      TreeSummary empty = emptySummary(group, shard, 0, 0);
      // Not live: the shard's first write may come before anything records its notice.
      endLive(key(group, shard));
      publish(group, shard, new ServedTree(empty, null));
      return new BuildResult(group, shard, Outcome.EMPTY, empty, 0, ticker.read() - t0, "no data on this node");
    }
    // Unchanged documents since the served tree's snapshot: nothing to do. Comparing commit
    // generations alone would rebuild after every background merge or empty commit.
    long changes = idx.changeCount();
    Optional<TreeSummary> servedNow = summary(group, shard);
    Long builtAt = builtAtChange.get(key(group, shard));
    if (!force && servedNow.isPresent() && builtAt != null && builtAt == changes) {
      return new BuildResult(group, shard, Outcome.UNCHANGED, servedNow.get(), servedNow.get().header().snapshotId(),
          ticker.read() - t0, "no change since snapshot " + servedNow.get().header().snapshotId());
    }
    String k = key(group, shard);
    IndexCommit commit;
    try {
      commit = store.commitAndSnapshot(idx, () -> {
        synchronized (liveLock) {
          pending.put(k, new ArrayList<>());
          untracked.remove(k);
        }
      });
    } catch (IOException | RuntimeException e) {
      dropPending(k);
      throw e;
    }
    if (commit == null) {
      TreeSummary empty = emptySummary(group, shard, 0, 0);
      ServedTree t = new ServedTree(empty, null);
      publish(group, shard, t);
      goLive(k, t);
      persistJournal(k);
      return new BuildResult(group, shard, Outcome.EMPTY, empty, 0, ticker.read() - t0, "index never committed");
    }
    try {
      long snap = commit.getGeneration();
      ServedTree checkpoint = served.get(k);
      if (!force && checkpoint != null && checkpoint.summary().header().snapshotId() == snap) {
        goLive(k, checkpoint);
        persistJournal(k);
        builtAtChange.put(key(group, shard), changes);
        return new BuildResult(group, shard, Outcome.UNCHANGED, summary(group, shard).orElseThrow(), snap,
            ticker.read() - t0,
            "snapshot " + snap + " already built");
      }
      DurableDirectories.create(dir);
      Path tree = dir.resolve(TREE_FILE);
      TreeSummary summary;
      // Shares the searcher's segment readers: the files are not mapped a second time.
      try (SnapshotLeafScanner scan = new SnapshotLeafScanner(idx.openCommitReader(commit));
          TreeFileWriter w = new TreeFileWriter(dir.resolve("build-" + System.nanoTime()), slotCount)) {
        TreeLeaf leaf;
        ScrubPace pace = new ScrubPace(leavesPerSecond);
        long counted = 0;
        while ((leaf = scan.next()) != null) {
          if (closed) {
            throw new BuildCancelled();
          }
          w.add(leaf.entityUtf8(), leaf.sha());
          if (w.leafCount() - counted >= ScrubPace.STEP) {
            scrubbedLeaves.addAndGet(w.leafCount() - counted);
            counted = w.leafCount();
            pace.after(counted, () -> closed);
          }
        }
        scrubbedLeaves.addAndGet(w.leafCount() - counted);
        long now = wallClock.millis();
        if (w.leafCount() == 0) {
          Files.deleteIfExists(tree);
          summary = emptySummary(group, shard, snap, now);
        } else {
          summary = w.finish(tree, new TreeHeader(group, shard, slotCount, snap, now));
        }
      }
      BuildStateFile.write(
          dir.resolve(STATE_FILE),
          new BuildState(BuildState.FORMAT, group, shard, slotCount, snap,
              Instant.ofEpochMilli(summary.header().buildTimeMillis()).toString(), summary.leafCount(),
              summary.rootHex()));
      TreeFileReader reader = summary.leafCount() == 0 ? null : TreeFileReader.open(tree);
      ServedTree built = new ServedTree(reader == null ? summary : reader.summary(), reader);
      publish(group, shard, built);
      goLive(k, built);
      persistJournal(k);
      builtAtChange.put(key(group, shard), changes);
      return new BuildResult(group, shard, summary.leafCount() == 0 ? Outcome.EMPTY : Outcome.BUILT, summary, snap,
          ticker.read() - t0, summary.leafCount() + " leaves");
    } finally {
      dropPending(k);
      idx.releaseSnapshot(commit);
    }
  }

  /**
   * Makes {@code checkpoint} (just built or found current) the shard's live tree, replaying the
   * notices recorded since the build's commit onto it. The tree it replaces also followed every
   * write, so both describe the shard now: a difference is a scrub mismatch — counted, logged,
   * and healed by serving the built one. A build that saw an untracked change does not go live.
   */
  private void goLive(String k, ServedTree checkpoint) {
    synchronized (liveLock) {
      List<byte[][]> notices = pending.remove(k);
      boolean sawUntracked = untracked.remove(k);
      if (closed) {
        // Shutting down: the live tree and its journal stay as they are for the next start.
        return;
      }
      if (notices == null || sawUntracked || !following || suspended.contains(k)) {
        endLive(k);
        return;
      }
      if (!checkpoint.retain()) {
        endLive(k);
        return;
      }
      LiveTree next = new LiveTree(checkpoint);
      for (byte[][] n : notices) {
        next.apply(n[0], n[1], n[2]);
      }
      newWriter(k);
      LiveTree old = live.put(k, next);
      if (old != null) {
        TreeSummary was = old.summary();
        TreeSummary now = next.summary();
        if (!Arrays.equals(was.root(), now.root())) {
          scrubMismatches.incrementAndGet();
          List<Integer> slots = new ArrayList<>();
          for (int i = 0; i < now.slots().size(); i++) {
            if (!Arrays.equals(was.slots().get(i).hash(), now.slots().get(i).hash())) {
              slots.add(i);
            }
          }
          LOG.warn("scrub of the repair tree of {}: the incremental tree ({} leaves) differed from the one built from"
              + " the index ({} leaves) in slot(s) {}; healed (the built tree is served)", k, was.leafCount(),
              now.leafCount(), slots);
        }
        old.close();
      }
    }
  }

  private void dropPending(String k) {
    synchronized (liveLock) {
      pending.remove(k);
      untracked.remove(k);
    }
  }

  /** Stops following writes for {@code k}: the next session rebuilds from the index. */
  private void endLive(String k) {
    synchronized (liveLock) {
      LiveJournalWriter w = writers.remove(k);
      if (w != null) {
        w.retire();
      }
      LiveTree old = live.remove(k);
      if (old != null) {
        old.close();
      }
      int cut = k.lastIndexOf('/');
      try {
        LiveJournal.delete(shardDir(k.substring(0, cut), Integer.parseInt(k.substring(cut + 1))));
      } catch (IOException e) {
        // A journal left behind is refused at the next start unless the WAL still holds its
        // segment; the store's next checkpoint deletes that segment.
        LOG.warn("deleting the journal of the repair tree of {} failed", k, e);
      }
    }
  }

  @Override
  public void onRecordsWritten(String group, int shard, List<dev.arbor.storage.WrittenRecord> written) {
    String k = key(group, shard);
    synchronized (liveLock) {
      List<byte[][]> notices = pending.get(k);
      LiveTree t = live.get(k);
      if (notices == null && t == null) {
        return;
      }
      for (dev.arbor.storage.WrittenRecord w : written) {
        byte[] entity = w.after().key().entityUtf8();
        byte[] before = w.before() == null ? null : w.before().sha();
        byte[] after = w.after().sha();
        if (notices != null) {
          notices.add(new byte[][] {entity, before, after});
        }
        if (t != null) {
          t.apply(entity, before, after);
        }
      }
    }
  }

  @Override
  public void onUntrackedChange(String group, int shard) {
    String k = key(group, shard);
    synchronized (liveLock) {
      endLive(k);
      suspended.remove(k);
      if (pending.containsKey(k)) {
        untracked.add(k);
      }
    }
  }

  private void publish(String group, int shard, ServedTree t) {
    ServedTree old = served.put(key(group, shard), t);
    if (old != null) {
      old.close();
    }
  }

  TreeSummary emptySummary(String group, int shard, long snapshotId, long builtAt) {
    List<SlotSummary> slots = new ArrayList<>(slotCount);
    byte[] empty = TreeHasher.emptySlotHash();
    for (int i = 0; i < slotCount; i++) {
      slots.add(new SlotSummary(i, empty, 0, 0, 0, 0));
    }
    return new TreeSummary(new TreeHeader(group, shard, slotCount, snapshotId, builtAt),
        TreeHasher.emptyRoot(slotCount), List.copyOf(slots), 0);
  }

  @Override
  public void onWrite(String group, int shard) {
    // Build triggers listen separately (TreeBuildScheduler); nothing to do here.
  }

  /**
   * A shard created empty on this node starts live from the empty tree: nothing was written to it
   * yet and no write can reach it before this returns, so it needs no first build. Its empty
   * checkpoint (a state file of 0 leaves) and journal are persisted at once, so it resumes live
   * after a restart like any built tree.
   */
  @Override
  public void onShardCreated(String group, int shard) {
    String k = key(group, shard);
    synchronized (liveLock) {
      if (closed || !following || suspended.contains(k) || pending.containsKey(k) || live.containsKey(k)) {
        return;
      }
      ServedTree cp = new ServedTree(emptySummary(group, shard, 0, 0), null);
      publish(group, shard, cp);
      if (!cp.retain()) {
        return;
      }
      newWriter(k);
      live.put(k, new LiveTree(cp));
    }
    Path dir = shardDir(group, shard);
    try {
      DurableDirectories.create(dir);
      Files.deleteIfExists(dir.resolve(TREE_FILE));
      BuildStateFile.write(dir.resolve(STATE_FILE), new BuildState(BuildState.FORMAT, group, shard, slotCount, 0,
          Instant.ofEpochMilli(0).toString(), 0, TreeHasher.hex(TreeHasher.emptyRoot(slotCount))));
    } catch (IOException | RuntimeException e) {
      // Live all the same; without a persisted checkpoint it is rebuilt after a restart.
      LOG.warn("persisting the empty repair tree of new shard {} failed", k, e);
      return;
    }
    persistJournal(k);
  }

  @Override
  public void onGroupDropped(String group) {
    builtAtChange.keySet().removeIf(k -> k.startsWith(group + "/"));
    synchronized (liveLock) {
      for (String k : List.copyOf(live.keySet())) {
        if (k.startsWith(group + "/")) {
          endLive(k);
        }
      }
    }
    served.entrySet().removeIf(e -> {
      if (e.getKey().startsWith(group + "/")) {
        e.getValue().close();
        return true;
      }
      return false;
    });
    try {
      FileTrees.deleteRecursively(NamedPaths.child(root, group));
    } catch (IOException e) {
      LOG.warn("removing repair trees of dropped group {} failed; removed on next start", group, e);
    }
  }

  @Override
  public void onShardDropped(String group, int shard) {
    String k = key(group, shard);
    ReentrantLock lock = buildLocks.computeIfAbsent(k, x -> new ReentrantLock());
    lock.lock();
    try {
      builtAtChange.remove(k);
      endLive(k);
      ServedTree old = served.remove(k);
      if (old != null) {
        old.close();
      }
      FileTrees.deleteRecursively(shardDir(group, shard));
    } catch (IOException e) {
      LOG.warn("removing the repair tree of dropped shard copy {} failed; removed on next start", k, e);
    } finally {
      lock.unlock();
    }
  }

  /** Makes running builds stop at their next leaf and new ones return CANCELLED. */
  public void stopBuilds() {
    closed = true;
  }

  /** Stops new and running builds (a running build ends at its next leaf) and releases readers. */
  @Override
  public void close() {
    closed = true;
    for (ReentrantLock l : buildLocks.values()) {
      l.lock();
      l.unlock();
    }
    synchronized (liveLock) {
      live.values().forEach(LiveTree::close);
      live.clear();
      writers.values().forEach(LiveJournalWriter::retire);
      writers.clear();
    }
    served.values().forEach(ServedTree::close);
    served.clear();
  }

  private static String key(String group, int shard) {
    return group + "/" + shard;
  }

  private static final class BuildCancelled extends RuntimeException {
    BuildCancelled() {
      super("build cancelled by shutdown", null, false, false);
    }
  }
}
