package dev.arbor.storage;

import dev.arbor.runtime.NodeRuntime;
import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
import dev.arbor.property.EntityKey;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.LastWriteWins;
import dev.arbor.property.Names;
import dev.arbor.property.PropertyRecord;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All property data of one node: a write-ahead log shared by every shard (so concurrent writes
 * share fsyncs) and one {@link ShardIndex} per (group, shard) under {@code data/<group>/shard-<N>}.
 *
 * <p>A write is: per-key lock → read latest → decide → append to the WAL → wait for the group
 * fsync → apply to the index → unlock → acknowledge. Recovery replays the WAL into the indexes
 * by last-write-wins (a record only replaces an older one, so replay is idempotent and an old
 * frame never overwrites a newer committed document); a checkpoint commits the indexes and drops the WAL
 * segments they cover.
 *
 * <p>Each group directory holds the group's incarnation ({@link IncarnationFile}), written before
 * the group's first record reaches the WAL. Records that claim another incarnation are refused
 * ({@link ApplyOutcome#WRONG_INCARNATION}).
 *
 * <p>Data is deleted only by an explicit delete ({@link #dropGroup}, {@link #dropDeleted}). Data
 * that metadata merely no longer accounts for (the group is missing, or metadata holds another
 * incarnation) is moved to the {@link Quarantine} at open and by {@link #reconcile}: metadata can
 * lose groups nobody deleted (etcd restored from an old backup, replaced, its prefix wiped).
 */
public final class PropertyStore implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(PropertyStore.class);
  private static final int LOCK_STRIPES = 1024;

  private final Path dataRoot;
  /** Staging directories of bulk transfers being received; emptied at open. */
  private final Path intakeRoot;
  private final DataDirLock dirLock;
  private final WriteAheadLog wal;
  private final Map<String, ShardIndex> shards = new ConcurrentHashMap<>();
  private final ReentrantLock[] keyLocks = new ReentrantLock[LOCK_STRIPES];
  /** Writers hold the read side across WAL append + index apply; checkpoints take the write side. */
  private final ReentrantReadWriteLock writeGate = new ReentrantReadWriteLock();
  private final Object checkpointLock = new Object();
  private final StoreListener listener;
  private final GroupIncarnations catalog;
  private final WriteGuard guard;
  /** Incarnation of each group whose directory has an incarnation file; changed under {@link #incarnationLock}. */
  private final Map<String, GroupIncarnation> incarnations = new ConcurrentHashMap<>();
  private final Object incarnationLock = new Object();
  private final Quarantine quarantine;
  private final Set<String> quarantinedAtOpen = ConcurrentHashMap.newKeySet();
  private volatile long walBytesAtCheckpoint;
  private final java.util.concurrent.atomic.AtomicLong purged = new java.util.concurrent.atomic.AtomicLong();
  /** Test-only defects switched back on ({@link DefectSwitches#NONE} in production). */
  private final DefectSwitches defects;
  /** Last-write-wins as this store applies it: {@link LastWriteWins#ORDER} unless a test switched a defect on. */
  private final java.util.Comparator<PropertyRecord> lww;

  private final NodeRuntime runtime;
  private final IndexTuning tuning;

  private PropertyStore(Path dir, DataDirLock dirLock, WriteAheadLog wal, StoreListener listener,
      GroupIncarnations catalog, WriteGuard guard, DefectSwitches defects, NodeRuntime runtime, IndexTuning tuning) {
    this.runtime = runtime;
    this.tuning = tuning;
    this.defects = defects;
    this.lww = LastWriteWins.order(defects);
    this.guard = guard;
    this.dataRoot = dir.resolve("data");
    this.intakeRoot = dir.resolve("bulk-intake");
    this.quarantine = new Quarantine(dir);
    this.catalog = catalog;
    this.listener = listener;
    this.dirLock = dirLock;
    this.wal = wal;
    for (int i = 0; i < LOCK_STRIPES; i++) {
      keyLocks[i] = new ReentrantLock();
    }
  }

  /**
   * Opens the store under {@code dir}, locking it against other processes, and replays the WAL.
   * Records of groups for which {@code groupExists} is false (dropped groups) are discarded.
   */
  public static PropertyStore open(Path dir, Predicate<String> groupExists) throws IOException {
    return open(dir, groupExists, new StoreEvents());
  }

  /** As {@link #open(Path, Predicate)}, notifying {@code listener} of every durable write. */
  public static PropertyStore open(Path dir, Predicate<String> groupExists, StoreListener listener)
      throws IOException {
    return open(dir, GroupIncarnations.withoutIncarnations(groupExists), listener);
  }

  /**
   * Opens the store under {@code dir}, locking it against other processes, and replays the WAL.
   * Data of groups that {@code groups} does not know, or knows under another incarnation, is
   * recovered and then quarantined (see {@link Quarantine}); data written before incarnations
   * existed adopts the group's incarnation in metadata.
   */
  public static PropertyStore open(Path dir, GroupIncarnations groups, StoreListener listener)
      throws IOException {
    return open(dir, groups, listener, WriteGuard.NONE);
  }

  /** As above; {@code guard} may refuse a write (e.g. the disk is too full) before it is logged. */
  public static PropertyStore open(Path dir, GroupIncarnations groups, StoreListener listener, WriteGuard guard)
      throws IOException {
    return open(dir, groups, listener, guard, DefectSwitches.NONE);
  }

  /** As above, on the node's runtime (its clocks, the log's sync thread). */
  public static PropertyStore open(Path dir, GroupIncarnations groups, StoreListener listener, WriteGuard guard,
      NodeRuntime runtime) throws IOException {
    return open(dir, groups, listener, guard, DefectSwitches.NONE, runtime);
  }

  /**
   * As above, with the test-only {@code defects} switched back on (see {@link DefectSwitches}):
   * {@link Defect#WAL_REPLAY_UNCONDITIONAL_PUT}, {@link Defect#NO_CONTENT_TIE_BREAK},
   * {@link Defect#INCARNATION_IGNORED} here and {@link Defect#WAL_ROLL_DOES_NOT_LATCH} in the log.
   */
  public static PropertyStore open(Path dir, GroupIncarnations groups, StoreListener listener, WriteGuard guard,
      DefectSwitches defects) throws IOException {
    return open(dir, groups, listener, guard, defects, NodeRuntime.system());
  }

  /** As above, on the node's runtime. */
  public static PropertyStore open(Path dir, GroupIncarnations groups, StoreListener listener, WriteGuard guard,
      DefectSwitches defects, NodeRuntime runtime) throws IOException {
    return open(dir, groups, listener, guard, defects, runtime, IndexTuning.DEFAULT);
  }

  /** As above, with the shard indexes' writers tuned by {@code tuning}. */
  public static PropertyStore open(Path dir, GroupIncarnations groups, StoreListener listener, WriteGuard guard,
      DefectSwitches defects, NodeRuntime runtime, IndexTuning tuning) throws IOException {
    DataDirLock lock = DataDirLock.acquire(dir);
    WriteAheadLog.Recovered rec;
    try {
      rec = WriteAheadLog.open(dir.resolve("wal"), defects, runtime);
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
    PropertyStore store = new PropertyStore(dir, lock, rec.log(), listener, groups, guard, defects, runtime, tuning);
    try {
      // Every acknowledged record's group directory existed before the record reached the WAL:
      // records of any other group belong to dropped data (a deleted group, another incarnation).
      Map<String, String> setAside = new java.util.TreeMap<>();
      store.clearBulkIntakes();
      Set<String> kept = store.openExistingShards(setAside);
      store.recover(rec, kept::contains);
      store.checkpoint();
      // After the checkpoint: the quarantined groups' WAL-only records are in their indexes by now.
      for (Map.Entry<String, String> e : setAside.entrySet()) {
        if (store.quarantineGroup(e.getKey(), null, e.getValue())) {
          store.quarantinedAtOpen.add(e.getKey());
        }
      }
    } catch (IOException | RuntimeException e) {
      // No checkpoint: it would delete segments whose records were never applied.
      store.abandon();
      throw e;
    }
    return store;
  }

  /** Deletes staged files of bulk transfers a crash interrupted: never attached, so never needed. */
  private void clearBulkIntakes() throws IOException {
    if (Files.isDirectory(intakeRoot)) {
      try (Stream<Path> left = Files.list(intakeRoot)) {
        List<Path> stale = left.toList();
        if (!stale.isEmpty()) {
          LOG.info("deleting {} interrupted bulk transfer(s) in {}", stale.size(), intakeRoot);
        }
      }
      FileTrees.deleteRecursively(intakeRoot);
    }
  }

  /**
   * Starts receiving the files of another replica's commit of (group, shard) into this node's
   * copy, which must hold no document. From now on the shard records the keys written to it, so
   * {@link #attachBulk} can decide them again against the incoming versions.
   *
   * @param claim the sender's incarnation of the group (empty: not checked)
   * @param layout the document layout the files were written with
   * @throws BulkRefusedException why the transfer cannot be taken
   */
  public BulkIntake beginBulkIntake(String group, int shard, Optional<GroupIncarnation> claim, int layout,
      List<ShardFiles.FileSpec> files) {
    String label = group + "/" + shard;
    if (layout != DocumentCodec.LAYOUT) {
      throw new BulkRefusedException("the offered files of " + label + " are layout " + layout
          + ", this node reads and writes layout " + DocumentCodec.LAYOUT);
    }
    String invalid = BulkIntake.invalid(files);
    if (invalid != null) {
      throw new BulkRefusedException("the offered files of " + label + " are not a commit: " + invalid);
    }
    try {
      guard.check();
    } catch (RuntimeException e) {
      throw new BulkRefusedException("this node refuses writes: " + e.getMessage());
    }
    Optional<GroupIncarnation> held = adoptIncarnation(group);
    if (claim.isPresent() && !claim.equals(held)) {
      throw new BulkRefusedException("group " + group + " is incarnation "
          + held.map(GroupIncarnation::toString).orElse("(unknown)") + " on this node, the files are of "
          + claim.get());
    }
    ShardIndex idx = shard(group, shard);
    if (!idx.startIntake()) {
      throw new BulkRefusedException("another bulk transfer into " + label + " is running on this node");
    }
    try {
      // After startIntake: a write racing this check is either counted here or recorded.
      int docs = idx.numDocs();
      if (docs > 0) {
        throw new BulkRefusedException("this node's copy of " + label + " is not empty (" + docs
            + " document(s)); bulk transfer only fills an empty copy");
      }
      return new BulkIntake(group, shard, idx, claim, intakeRoot.resolve(group + "." + shard + "."
          + java.util.UUID.randomUUID()), files);
    } catch (IOException e) {
      idx.endIntake();
      throw new StorageException("cannot stage a bulk transfer into " + label + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      idx.endIntake();
      throw e;
    }
  }

  /**
   * Adds a completed intake's files to its shard and commits, so the documents are durable without
   * the WAL. Keys written to the shard during the transfer may now hold two documents (the local
   * one and the incoming one): each is decided again by last write wins under every key lock, so
   * no write slips between the attach and that decision. Checkpoints wait meanwhile: none may
   * commit the duplicates and drop the WAL records that decide them. The intake is closed after.
   *
   * @param keyBelongs whether a key belongs to the shard (group, routing): a commit holding any
   *     other key is refused, as a record session refuses the record
   * @throws BulkRefusedException the shard was dropped or its group changed incarnation meanwhile,
   *     the staged commit is of another layout, or holds a key of another shard
   */
  public BulkIntake.Attached attachBulk(BulkIntake intake, java.util.function.Predicate<String> keyBelongs)
      throws IOException {
    String label = intake.group() + "/" + intake.shard();
    try (intake) {
      if (!intake.complete()) {
        throw new IllegalStateException("bulk transfer into " + label + " is incomplete: " + intake.verifiedFiles()
            + " of " + intake.fileCount() + " file(s)");
      }
      int layout = IndexLayout.onDisk(intake.staged());
      if (layout != DocumentCodec.LAYOUT) {
        throw new BulkRefusedException("the received commit of " + label + " is layout " + layout + ", not "
            + DocumentCodec.LAYOUT);
      }
      String stranger = CommitKeys.firstNotMatching(intake.staged(), keyBelongs);
      if (stranger != null) {
        throw new BulkRefusedException("the received commit of " + label + " holds " + stranger
            + ", which does not belong to the shard");
      }
      BulkIntake.Attached attached;
      synchronized (checkpointLock) {
        ShardIndex idx = shards.get(shardKey(intake.group(), intake.shard()));
        if (idx != intake.target()) {
          throw new BulkRefusedException("this node's copy of " + label + " was dropped during the transfer");
        }
        if (intake.incarnation().isPresent()
            && !intake.incarnation().get().equals(incarnations.get(intake.group()))) {
          throw new BulkRefusedException("group " + intake.group() + " changed incarnation on this node during the"
              + " transfer");
        }
        int resolved;
        List<ReentrantLock> held = new ArrayList<>(LOCK_STRIPES);
        try {
          for (ReentrantLock l : keyLocks) {
            l.lock();
            held.add(l);
          }
          listener.beforeUntrackedChange(intake.group(), intake.shard());
          idx.addIndexes(intake.staged());
          resolved = idx.resolveDuplicates(idx.intakeKeys());
        } catch (IOException | RuntimeException e) {
          listener.onUntrackedChange(intake.group(), intake.shard());
          throw e;
        } finally {
          idx.endIntake();
          for (ReentrantLock l : held) {
            l.unlock();
          }
        }
        idx.commit();
        attached = new BulkIntake.Attached(idx.numDocs(), resolved);
      }
      listener.onUntrackedChange(intake.group(), intake.shard());
      listener.onWrite(intake.group(), intake.shard());
      LOG.info("bulk transfer into {}: attached {} file(s), {} bytes; {} document(s), {} key(s) written meanwhile"
          + " decided again", label, intake.fileCount(), intake.bytes(), attached.documents(), attached.keysResolved());
      return attached;
    }
  }

  /**
   * Commits (group, shard) and holds that commit for a bulk transfer of its files; null when this
   * node has no committed copy. Close the result to release the commit.
   */
  public ShardFiles bulkSnapshot(String group, int shard) throws IOException {
    ShardIndex idx = existingShard(group, shard);
    return idx == null ? null : idx.bulkSnapshot();
  }

  /** Keys of the records replayed from the WAL at open, by shard; what derived state must re-read. */
  private volatile Map<String, Set<EntityKey>> recoveredKeys = new java.util.HashMap<>();
  private volatile long recoveredFirstSegment;
  private volatile long recoveredLastSegment;

  /**
   * The WAL segments this store replayed at open and the keys they held, per shard: state derived
   * from writes and persisted with a WAL segment number (the repair trees' journals) is complete
   * again once those keys are re-read, if its segment is one of these.
   */
  public RecoveredWal recoveredWal() {
    return new RecoveredWal(recoveredFirstSegment, recoveredLastSegment, recoveredKeys);
  }

  /** Frees {@link #recoveredWal()}'s keys once derived state no longer needs them. */
  public void forgetRecoveredWal() {
    recoveredKeys = Map.of();
  }

  /** Sequence number of the WAL segment writes are logged to now. */
  public long walSegment() {
    return wal.currentSegment();
  }

  /** Replays the recovered WAL into the indexes, a chunk of records at a time. */
  private void recover(WriteAheadLog.Recovered rec, Predicate<String> groupExists) throws IOException {
    Replay replay = new Replay();
    List<ShardWrite> chunk = new ArrayList<>(REPLAY_CHUNK);
    rec.replay((segment, offset, payload) -> {
      for (ShardWrite w : decodeFrame(segment, offset, payload)) {
        if (groupExists.test(w.group())) {
          chunk.add(w);
          recoveredKeys.computeIfAbsent(shardKey(w.group(), w.shard()), k -> new java.util.HashSet<>())
              .add(w.record().key());
        }
      }
      if (chunk.size() >= REPLAY_CHUNK) {
        replay(chunk, replay);
        chunk.clear();
      }
    });
    replay(chunk, replay);
    if (!rec.segments().isEmpty()) {
      recoveredFirstSegment = WalSegments.seqOf(rec.segments().get(0).path());
      recoveredLastSegment = WalSegments.seqOf(rec.segments().get(rec.segments().size() - 1).path());
    }
    if (replay.skipped > 0) {
      LOG.error("{} write-ahead log record(s) skipped during recovery", replay.skipped);
    }
    if (replay.replayed + replay.superseded > 0) {
      LOG.info("recovered {} writes from {} write-ahead log segment(s); {} older than the index left alone",
          replay.replayed, rec.segments().size(), replay.superseded);
    }
  }

  private static List<ShardWrite> decodeFrame(WalSegmentScan segment, long offset, byte[] payload) {
    try {
      return WalBatchCodec.decode(payload);
    } catch (IOException | RuntimeException e) {
      // The frame's checksum holds, so this is no torn write: a newer build's batch or a bug.
      throw new StorageException("write-ahead log segment " + segment.path() + ": the frame at byte " + offset
          + " has a valid checksum but cannot be decoded (" + e.getMessage() + "; written by a newer Arbor?);"
          + " the node does not start and nothing was deleted", e);
    }
  }

  /** Records of the WAL looked up and applied together during recovery. */
  private static final int REPLAY_CHUNK = 1024;

  /** What recovery did with the WAL's records. */
  private static final class Replay {
    int replayed;
    int superseded;
    int skipped;
  }

  /**
   * Re-applies WAL records by last-write-wins against what the index already holds: a frame
   * older than a committed document (say a segment left behind by a crash between an index commit
   * and the segment's deletion, replayed over a newer write) must never replace it. The order is
   * total, so chunking and frame order do not change the outcome.
   */
  private void replay(List<ShardWrite> writes, Replay replay) throws IOException {
    if (writes.isEmpty()) {
      return;
    }
    // The defect a test may switch back on: every frame put in log order, older ones included.
    List<ShardWrite> winners =
        defects.has(Defect.WAL_REPLAY_UNCONDITIONAL_PUT) ? writes : decide(writes).winners();
    replay.superseded += writes.size() - winners.size();
    for (ShardWrite w : winners) {
      try {
        shard(w.group(), w.shard()).put(w.record());
        replay.replayed++;
      } catch (RuntimeException e) {
        // A record the index rejects must never keep the node from starting (an I/O error does:
        // the checkpoint after recovery would drop the segments holding the record).
        replay.skipped++;
        LOG.error("write-ahead log record {} of {}/{} cannot be indexed; skipped", w.record(), w.group(), w.shard(), e);
      }
    }
  }

  /**
   * Opens the shards of every group directory; returns those groups. Groups metadata does not
   * account for are opened too (their WAL records must reach the index before they are moved
   * aside) and put in {@code setAside} with the reason.
   */
  private Set<String> openExistingShards(Map<String, String> setAside) throws IOException {
    Set<String> kept = new java.util.HashSet<>();
    if (!Files.isDirectory(dataRoot)) {
      return kept;
    }
    try (Stream<Path> groups = Files.list(dataRoot)) {
      for (Path g : groups.filter(Files::isDirectory).toList()) {
        String group = g.getFileName().toString();
        if (!Names.isValidName(group)) {
          // Not a directory Arbor made: leave it alone rather than guess what it is.
          LOG.warn("ignoring unexpected entry {} in the data directory", g);
          continue;
        }
        Optional<GroupIncarnation> onDisk = IncarnationFile.read(g);
        Optional<GroupIncarnation> inMetadata = catalog.incarnation(group);
        if (!catalog.exists(group)) {
          setAside.put(group, "the group is not in metadata at start");
        } else if (onDisk.isPresent() && inMetadata.isPresent() && !onDisk.equals(inMetadata)
            && !defects.has(Defect.INCARNATION_IGNORED)) {
          setAside.put(group, "the data is incarnation " + onDisk.get() + " but metadata holds incarnation "
              + inMetadata.get() + " (deleted and re-created while this node did not see it, or metadata restored)");
        } else if (inMetadata.isPresent() && !onDisk.equals(inMetadata)) {
          // Written before incarnations existed: it can only be this group's, as far as anyone knows.
          // (Or another incarnation's, adopted only when a test switched INCARNATION_IGNORED on.)
          IncarnationFile.write(g, inMetadata.get());
          LOG.info("data of group {} predates group incarnations; it adopts incarnation {}", group, inMetadata.get());
          onDisk = inMetadata;
        }
        onDisk.ifPresent(i -> incarnations.put(group, i));
        kept.add(group);
        try (Stream<Path> ss = Files.list(g)) {
          for (Path s : ss.toList()) {
            String name = s.getFileName().toString();
            if (name.equals(IncarnationFile.NAME)) {
              continue;
            }
            if (name.equals(IncarnationFile.NAME + ".tmp")) {
              Files.deleteIfExists(s); // an interrupted rewrite; the file itself is whole
              continue;
            }
            Integer shard = ShardDirs.shardOf(s);
            if (shard == null) {
              LOG.warn("ignoring unexpected entry {} in the data directory", s);
              continue;
            }
            shard(group, shard);
          }
        }
      }
    }
    return kept;
  }

  /** What a group directory holds, for the log line that says it is dropped. */
  private static String describe(Path groupDir) {
    try (Stream<Path> files = Files.walk(groupDir)) {
      List<Path> all = files.filter(Files::isRegularFile).toList();
      long bytes = 0;
      Set<String> shardDirs = new TreeSet<>();
      for (Path f : all) {
        bytes += Files.size(f);
        Path rel = groupDir.relativize(f);
        if (rel.getNameCount() > 1) {
          shardDirs.add(rel.getName(0).toString());
        }
      }
      return shardDirs + ", " + all.size() + " file(s), " + bytes + " bytes";
    } catch (IOException | UncheckedIOException e) {
      return "(cannot list " + groupDir + ": " + e.getMessage() + ")";
    }
  }

  /** Groups whose data was quarantined at open: metadata lacked them or held another incarnation. */
  public Set<String> quarantinedAtOpen() {
    return Set.copyOf(quarantinedAtOpen);
  }

  /** Where this store sets aside data that metadata does not account for. */
  public Quarantine quarantine() {
    return quarantine;
  }

  /** Every group that has a directory on this node (data, or an incarnation adopted for it). */
  public Set<String> groupsOnDisk() {
    Set<String> out = new TreeSet<>();
    if (Files.isDirectory(dataRoot)) {
      try (Stream<Path> groups = Files.list(dataRoot)) {
        groups.filter(Files::isDirectory).map(g -> g.getFileName().toString())
            .filter(Names::isValidName).forEach(out::add);
      } catch (IOException e) {
        throw new StorageException("cannot list " + dataRoot + ": " + e.getMessage(), e);
      }
    }
    shards.values().forEach(s -> out.add(s.group()));
    return out;
  }

  /**
   * The incarnation of the group's data on this node: the one its directory holds, else the one
   * in metadata (which the directory gets with its first record). Empty when neither knows one
   * (metadata from before incarnations).
   */
  public Optional<GroupIncarnation> incarnation(String group) {
    GroupIncarnation held = incarnations.get(group);
    return held != null ? Optional.of(held) : catalog.incarnation(group);
  }

  /**
   * Fixes the group's incarnation on disk if it has none yet: metadata's, written before any record
   * of the group reaches the WAL. Returns the incarnation the group's data now belongs to.
   */
  private Optional<GroupIncarnation> adoptIncarnation(String group) {
    GroupIncarnation held = incarnations.get(group);
    if (held != null) {
      return Optional.of(held);
    }
    synchronized (incarnationLock) {
      held = incarnations.get(group);
      if (held != null) {
        return Optional.of(held);
      }
      Optional<GroupIncarnation> m = catalog.incarnation(group);
      if (m.isPresent()) {
        Path g = NamedPaths.child(dataRoot, group);
        boolean legacy = Files.isDirectory(g);
        try {
          IncarnationFile.write(g, m.get());
        } catch (IOException e) {
          throw new StorageException("cannot write the incarnation of group " + group + ": " + e.getMessage(), e);
        }
        if (legacy) {
          LOG.info("data of group {} predates group incarnations; it adopts incarnation {}", group, m.get());
        }
        incarnations.put(group, m.get());
      }
      return m;
    }
  }

  /**
   * Only with the test-only {@link Defect#INCARNATION_IGNORED}: the group's data of incarnation
   * {@code held} takes incarnation {@code next}, as if incarnations did not exist.
   */
  private void adoptOver(String group, GroupIncarnation held, GroupIncarnation next) throws IOException {
    synchronized (incarnationLock) {
      if (incarnations.replace(group, held, next)) {
        IncarnationFile.write(NamedPaths.child(dataRoot, group), next);
      }
    }
  }

  /**
   * Brings the group's data in line with metadata: quarantines it when the group is missing, or
   * when metadata has another incarnation (deleted and re-created while this node missed it, or
   * metadata restored: either way the data is never served or repaired into the group metadata
   * now has). Nothing is deleted here: that takes {@link #dropDeleted}. Data from before
   * incarnations adopts metadata's. Returns whether data was moved out.
   */
  public boolean reconcile(String group) throws IOException {
    if (!catalog.exists(group)) {
      if (groupsOnDisk().contains(group)) {
        return quarantineGroup(group, null, "the group is not in metadata, and this node saw no delete of it");
      }
      return false;
    }
    Optional<GroupIncarnation> m = catalog.incarnation(group);
    GroupIncarnation held = incarnations.get(group);
    if (m.isEmpty() || m.get().equals(held)) {
      return false;
    }
    if (held == null) {
      if (groupsOnDisk().contains(group)) {
        adoptIncarnation(group);
      }
      return false;
    }
    if (defects.has(Defect.INCARNATION_IGNORED)) {
      // The defect a test may switch back on: the old incarnation's data joins the new group.
      adoptOver(group, held, m.get());
      return false;
    }
    return quarantineGroup(group, held, "the data is incarnation " + held + " but metadata holds incarnation "
        + m.get() + " (deleted and re-created while this node did not see it, or metadata restored)");
  }

  /**
   * An explicit delete of incarnation {@code deleted} of the group, observed by this node: drops
   * the group's data if it is of that incarnation. Returns false (nothing deleted) otherwise.
   */
  public boolean dropDeleted(String group, GroupIncarnation deleted) throws IOException {
    String what = describe(NamedPaths.child(dataRoot, group));
    if (drop(group, deleted)) {
      LOG.warn("dropped data of group {} (incarnation {}), deleted in metadata: {}", group, deleted, what);
      return true;
    }
    return false;
  }

  /**
   * Moves the group's data to the quarantine if it is still of incarnation {@code onlyIf} (null:
   * whatever it is), committed first so nothing is left only in the WAL; the WAL then forgets it.
   */
  private boolean quarantineGroup(String group, GroupIncarnation onlyIf, String reason) throws IOException {
    Path dir = NamedPaths.child(dataRoot, group);
    String what = describe(dir);
    QuarantineEntry entry;
    synchronized (checkpointLock) {
      writeGate.writeLock().lock();
      try {
        GroupIncarnation held = incarnations.get(group);
        if (onlyIf != null && !onlyIf.equals(held)) {
          return false; // someone else reconciled it first
        }
        List<ShardIndex> open = shardsOf(group);
        if (open.isEmpty() && !Files.isDirectory(dir)) {
          return false;
        }
        List<Path> old = wal.roll();
        walBytesAtCheckpoint = wal.writtenBytes();
        for (ShardIndex s : open) {
          shards.remove(shardKey(group, s.shard()));
          s.commit();
          s.close();
        }
        synchronized (incarnationLock) {
          entry = quarantine.admit(group, Optional.ofNullable(held), reason, runtime.wallClock().instant());
          incarnations.remove(group);
        }
        commitAndForget(old);
      } finally {
        writeGate.writeLock().unlock();
      }
    }
    LOG.error("QUARANTINED data of group {}: {}. Nothing was deleted: it is in {} ({}), not served or repaired;"
        + " 'arbor quarantine restore' puts it back, it is purged after --quarantine-retention",
        group, reason, entry.dir(), what);
    listener.onGroupDropped(group);
    return true;
  }

  /** The index of (group, shard), opened or created on first use. */
  public ShardIndex shard(String group, int shard) {
    return shards.computeIfAbsent(
        shardKey(group, shard),
        k -> {
          try {
            Path p = ShardDirs.of(dataRoot, group, shard);
            adoptIncarnation(group);
            boolean fresh = !Files.exists(p);
            DurableDirectories.create(p);
            ShardIndex created = new ShardIndex(group, shard, p, runtime.ticker(), tuning);
            if (fresh) {
              // Inside the map's computation: no writer can reach the new index before the listener returns.
              listener.onShardCreated(group, shard);
            }
            return created;
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        });
  }

  /** The index of (group, shard) if it exists on this node, else null. */
  public ShardIndex existingShard(String group, int shard) {
    return shards.get(shardKey(group, shard));
  }

  /** Every open shard index of a group. */
  public List<ShardIndex> shardsOf(String group) {
    return shards.values().stream()
        .filter(s -> s.group().equals(group))
        .sorted(Comparator.comparingInt(ShardIndex::shard))
        .toList();
  }

  /** Every open shard index. */
  public List<ShardIndex> allShards() {
    return List.copyOf(shards.values());
  }

  public PropertyRecord latest(String group, int shard, EntityKey key) {
    ShardIndex idx = existingShard(group, shard);
    try {
      return idx == null ? null : idx.latest(key.entity());
    } catch (IOException e) {
      throw new StorageException("read of " + key + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * The latest records of many keys of one shard ({@code null} where absent), in the order given;
   * pass keys in entity order for sequential reads.
   */
  public PropertyRecord[] latestAll(String group, int shard, List<EntityKey> keys) {
    ShardIndex idx = existingShard(group, shard);
    if (idx == null) {
      return new PropertyRecord[keys.size()];
    }
    List<String> entities = new ArrayList<>(keys.size());
    for (EntityKey k : keys) {
      entities.add(k.entity());
    }
    try {
      return idx.latestAll(entities);
    } catch (IOException e) {
      throw new StorageException("read of " + keys.size() + " keys of " + group + "/" + shard + " failed: "
          + e.getMessage(), e);
    }
  }

  /** What an atomic read-modify-write of one key decided. */
  public interface KeyUpdate<R> {
    /** The record to store, or null to leave the key unchanged. */
    PropertyRecord next();

    /** The result to return to the caller. */
    R result();
  }

  /**
   * Atomically reads the latest record of {@code key}, lets {@code decide} choose a new record,
   * and stores it durably before returning.
   */
  public <R> R update(
      String group, int shard, EntityKey key, Function<PropertyRecord, KeyUpdate<R>> decide) {
    ReentrantLock l = lockFor(key);
    l.lock();
    try {
      PropertyRecord current = latest(group, shard, key);
      KeyUpdate<R> u = decide.apply(current);
      if (u.next() != null) {
        writeAndNotify(List.of(new ShardWrite(group, shard, u.next())), java.util.Collections.singletonList(current));
      }
      return u.result();
    } finally {
      l.unlock();
    }
  }

  /**
   * Atomically updates many keys of one group with one WAL frame and one fsync. {@code decide}
   * sees each key's latest record (null when absent) and returns the record to store, or null.
   * Returns the records stored.
   */
  public List<PropertyRecord> updateBatch(
      String group,
      List<EntityKey> keys,
      Function<EntityKey, Integer> shardOf,
      Function<PropertyRecord, PropertyRecord> decide) {
    return withKeyLocks(keys, () -> {
      List<ShardWrite> writes = new ArrayList<>();
      List<PropertyRecord> before = new ArrayList<>();
      for (EntityKey k : keys) {
        int shard = shardOf.apply(k);
        PropertyRecord current = latest(group, shard, k);
        PropertyRecord next = decide.apply(current);
        if (next != null) {
          writes.add(new ShardWrite(group, shard, next));
          before.add(current);
        }
      }
      if (!writes.isEmpty()) {
        writeAndNotify(writes, before);
      }
      return writes.stream().map(ShardWrite::record).toList();
    });
  }

  /**
   * Stores each incoming record whose version beats the local one by {@link LastWriteWins}, in
   * one WAL frame and one fsync; the single write primitive of repair (equal versions are in
   * sync and left alone). Returns the records stored.
   */
  public List<PropertyRecord> applyIfNewer(List<ShardWrite> incoming) {
    List<ApplyOutcome> outcomes = applyEach(incoming);
    List<PropertyRecord> stored = new ArrayList<>();
    for (int i = 0; i < incoming.size(); i++) {
      if (outcomes.get(i) == ApplyOutcome.STORED) {
        stored.add(incoming.get(i).record());
      }
    }
    return stored;
  }

  /**
   * As {@link #applyIfNewer}, answering what happened to each record, aligned with
   * {@code incoming}: a writer needs to tell "already had it" from "had something newer".
   */
  public List<ApplyOutcome> applyEach(List<ShardWrite> incoming) {
    return applyEach(incoming, Map.of());
  }

  /**
   * As {@link #applyEach(List)}, for records that claim to belong to an incarnation of their group
   * ({@code claimed}, by group name; a group absent from it is not checked). A record whose claim
   * is not the incarnation this store holds for the group is {@link ApplyOutcome#WRONG_INCARNATION}.
   * The check and the write are atomic with respect to {@link #reconcile} and {@link #dropGroup}.
   */
  public List<ApplyOutcome> applyEach(List<ShardWrite> incoming, Map<String, GroupIncarnation> claimed) {
    return withKeyLocks(incoming.stream().map(w -> w.record().key()).toList(), () -> {
      writeGate.readLock().lock();
      try {
        ApplyOutcome[] outcomes = new ApplyOutcome[incoming.size()];
        List<ShardWrite> admitted = new ArrayList<>(incoming.size());
        List<Integer> positions = new ArrayList<>(incoming.size());
        for (int i = 0; i < incoming.size(); i++) {
          ShardWrite w = incoming.get(i);
          GroupIncarnation claim = claimed.get(w.group());
          if (claim != null && !adoptIncarnation(w.group()).map(claim::equals).orElse(false)) {
            outcomes[i] = ApplyOutcome.WRONG_INCARNATION;
          } else {
            admitted.add(w);
            positions.add(i);
          }
        }
        Decision d = decide(admitted);
        if (!d.winners().isEmpty()) {
          writeAndNotify(d.winners(), d.winnersBefore());
        }
        for (int j = 0; j < positions.size(); j++) {
          outcomes[positions.get(j)] = d.outcomes().get(j);
        }
        return List.of(outcomes);
      } finally {
        writeGate.readLock().unlock();
      }
    });
  }

  /**
   * What a batch does: each record's outcome (aligned with the batch), the records to write, and
   * for each of those whether its key had no stored record.
   */
  private record Decision(List<ApplyOutcome> outcomes, List<ShardWrite> winners, List<PropertyRecord> winnersBefore) {
    List<Boolean> winnersAbsent() {
      return winnersBefore.stream().map(java.util.Objects::isNull).toList();
    }
  }

  /**
   * Decides a batch by {@link LastWriteWins} against the stored records, at most one winner per
   * key: the same key twice in one batch must write only its winner (in batch order a loser
   * written after it would replace it). Callers hold the key locks.
   */
  private Decision decide(List<ShardWrite> incoming) {
    ApplyOutcome[] outcomes = new ApplyOutcome[incoming.size()];
    PropertyRecord[] current = currentOf(incoming);
    // Index in incoming of each (shard, key)'s pending winner.
    java.util.Map<String, Integer> winnerOf = new java.util.LinkedHashMap<>();
    for (int i = 0; i < incoming.size(); i++) {
      ShardWrite w = incoming.get(i);
      PropertyRecord r = w.record();
      if (!LastWriteWins.beats(r, current[i], lww)) {
        outcomes[i] = r.equals(current[i]) ? ApplyOutcome.NOT_STORED_EQUAL : ApplyOutcome.NOT_STORED_NEWER;
        continue;
      }
      String slot = shardKey(w.group(), w.shard()) + "/" + r.key().entity();
      Integer prev = winnerOf.get(slot);
      if (prev == null) {
        winnerOf.put(slot, i);
        outcomes[i] = ApplyOutcome.STORED;
      } else if (LastWriteWins.beats(r, incoming.get(prev).record(), lww)) {
        outcomes[prev] = ApplyOutcome.NOT_STORED_NEWER;
        winnerOf.put(slot, i);
        outcomes[i] = ApplyOutcome.STORED;
      } else {
        outcomes[i] = r.equals(incoming.get(prev).record())
            ? ApplyOutcome.NOT_STORED_EQUAL : ApplyOutcome.NOT_STORED_NEWER;
      }
    }
    List<ShardWrite> winners = new ArrayList<>(winnerOf.size());
    List<PropertyRecord> before = new ArrayList<>(winnerOf.size());
    for (int i : winnerOf.values()) {
      winners.add(incoming.get(i));
      before.add(current[i]);
    }
    return new Decision(List.of(outcomes), winners, before);
  }

  /** The latest record of each write's key, looked up shard by shard in one pass each. */
  private PropertyRecord[] currentOf(List<ShardWrite> writes) {
    PropertyRecord[] out = new PropertyRecord[writes.size()];
    java.util.Map<String, List<Integer>> byShard = new java.util.LinkedHashMap<>();
    for (int i = 0; i < writes.size(); i++) {
      ShardWrite w = writes.get(i);
      byShard.computeIfAbsent(w.group() + "\u0000" + w.shard(), k -> new ArrayList<>()).add(i);
    }
    for (List<Integer> idx : byShard.values()) {
      ShardWrite first = writes.get(idx.get(0));
      List<EntityKey> keys = new ArrayList<>(idx.size());
      for (int i : idx) {
        keys.add(writes.get(i).record().key());
      }
      PropertyRecord[] found = latestAll(first.group(), first.shard(), keys);
      for (int j = 0; j < idx.size(); j++) {
        out[idx.get(j)] = found[j];
      }
    }
    return out;
  }

  /** Runs {@code body} holding the locks of all keys, taken in stripe order (no deadlock). */
  private <R> R withKeyLocks(List<EntityKey> keys, java.util.function.Supplier<R> body) {
    TreeSet<Integer> stripes = new TreeSet<>();
    for (EntityKey k : keys) {
      stripes.add(stripeOf(k));
    }
    List<ReentrantLock> held = new ArrayList<>(stripes.size());
    try {
      for (int s : stripes) {
        keyLocks[s].lock();
        held.add(keyLocks[s]);
      }
      return body.get();
    } finally {
      for (ReentrantLock l : held) {
        l.unlock();
      }
    }
  }

  /**
   * {@link #writeDurably} then tells the listener which records replaced which, inside the write
   * gate: {@link #commitAndSnapshot} takes the gate exclusively, so every notice is of a write on
   * one side of its commit. Callers hold the keys' locks, so a key's notices arrive in write order.
   * A write that failed part-way leaves its shards to be re-derived from the index.
   */
  private void writeAndNotify(List<ShardWrite> writes, List<PropertyRecord> before) {
    writeGate.readLock().lock();
    try {
      try {
        writeDurably(writes, before.stream().map(java.util.Objects::isNull).toList());
      } catch (RuntimeException e) {
        writes.stream().map(w -> java.util.Map.entry(w.group(), w.shard())).distinct()
            .forEach(gs -> listener.onUntrackedChange(gs.getKey(), gs.getValue()));
        throw e;
      }
      java.util.Map<java.util.Map.Entry<String, Integer>, List<WrittenRecord>> byShard = new java.util.LinkedHashMap<>();
      for (int i = 0; i < writes.size(); i++) {
        ShardWrite w = writes.get(i);
        byShard.computeIfAbsent(java.util.Map.entry(w.group(), w.shard()), k -> new ArrayList<>())
            .add(new WrittenRecord(before.get(i), w.record()));
      }
      byShard.forEach((gs, written) -> listener.onRecordsWritten(gs.getKey(), gs.getValue(), written));
    } finally {
      writeGate.readLock().unlock();
    }
  }

  /**
   * Commits (group, shard) with writes held off, runs {@code atCommit} at that instant, and holds
   * the commit (release with {@link ShardIndex#releaseSnapshot}; null when the index was never
   * committed). A listener that starts recording notices in {@code atCommit} sees exactly the
   * writes the commit lacks. Writes wait for the one commit.
   */
  public org.apache.lucene.index.IndexCommit commitAndSnapshot(ShardIndex idx, Runnable atCommit) throws IOException {
    writeGate.writeLock().lock();
    try {
      idx.commit();
      atCommit.run();
      return idx.snapshot();
    } finally {
      writeGate.writeLock().unlock();
    }
  }

  /**
   * Logs {@code writes} in one WAL frame, waits for its fsync, then indexes them.
   *
   * @param absent per write, true when its key had no stored record when the caller looked under
   *     the key lock: the index adds such a document instead of replacing by key, which spares
   *     Lucene resolving a delete per write at every flush (most of a repair into an empty replica)
   */
  private void writeDurably(List<ShardWrite> writes, List<Boolean> absent) {
    guard.check();
    // Documents are built before anything is logged, so a record the index cannot take is
    // rejected without reaching the WAL.
    List<org.apache.lucene.document.Document> docs = new ArrayList<>(writes.size());
    for (ShardWrite w : writes) {
      docs.add(DocumentCodec.toDocument(w.record(), w.parsedSource()));
    }
    byte[] payload = WalBatchCodec.encode(writes);
    writeGate.readLock().lock();
    try {
      // Opened first: a group's directory and incarnation file exist before its records reach the WAL.
      List<ShardIndex> targets = new ArrayList<>(writes.size());
      for (ShardWrite w : writes) {
        ShardIndex target = shard(w.group(), w.shard());
        // Before the WAL: a write refused here was not logged, so its outcome is known.
        target.ensureServing();
        targets.add(target);
      }
      long pos = wal.append(payload);
      wal.awaitDurable(pos);
      for (IndexBatch b : IndexBatch.byShard(targets, writes, docs, absent)) {
        ShardIndex target = b.target();
        try {
          target.putAll(b.records(), b.docs(), b.absent());
        } catch (IOException | RuntimeException e) {
          // Logged durably but not applied: a restart replays it, unless a checkpoint of a shard
          // that kept serving dropped the segment first. Either way the caller cannot know.
          throw new dev.arbor.errors.WriteOutcomeUnknownException("the write reached the write-ahead log, but"
              + " applying it to shard " + target.shard() + " of group " + target.group() + " failed"
              + (target.serving() ? "" : " (the shard is out of service after a fatal index error; restarting the"
                  + " node recovers it from the write-ahead log)") + ": its outcome is unknown", e);
        }
      }
    } finally {
      writeGate.readLock().unlock();
    }
    String lastGroup = null;
    int lastShard = -1;
    for (ShardWrite w : writes) {
      if (!w.group().equals(lastGroup) || w.shard() != lastShard) {
        listener.onWrite(w.group(), w.shard());
        lastGroup = w.group();
        lastShard = w.shard();
      }
    }
  }

  /**
   * Commits every index and drops the WAL segments written before the commit. Safe to call at
   * any time; concurrent writes wait only for the segment roll.
   */
  public void checkpoint() throws IOException {
    synchronized (checkpointLock) {
      List<Path> old;
      writeGate.writeLock().lock();
      try {
        old = wal.roll();
        walBytesAtCheckpoint = wal.writtenBytes();
      } finally {
        writeGate.writeLock().unlock();
      }
      commitAndForget(old);
    }
  }

  private void commitAndForget(List<Path> oldSegments) throws IOException {
    boolean allCommitted = true;
    for (ShardIndex s : shards.values()) {
      if (!s.serving()) {
        // What it lost since its last commit lives only in these segments: a restart replays them.
        allCommitted = false;
        continue;
      }
      s.commit();
    }
    if (allCommitted) {
      listener.beforeWalTruncated();
      wal.deleteSegments(oldSegments);
    }
  }

  /** Bytes appended to the WAL since the last checkpoint began (what a crash would replay). */
  public long walBytesSinceCheckpoint() {
    return wal.writtenBytes() - walBytesAtCheckpoint;
  }

  /** Bytes written to the WAL since start. */
  public long walBytes() {
    return wal.writtenBytes();
  }

  public long walSyncs() {
    return wal.syncCount();
  }

  /** Physically removes tombstones older than the cutoff in every shard. */
  public void purgeTombstones(long cutoffNanos) throws IOException {
    purgeTombstones((group, shard) -> cutoffNanos);
  }

  /** Physically removes, in every shard, the tombstones deleted at or before that shard's cutoff. */
  public void purgeTombstones(PurgeCutoff cutoff) throws IOException {
    for (ShardIndex s : shards.values()) {
      long c = cutoff.cutoffNanos(s.group(), s.shard());
      if (c != PurgeCutoff.KEEP_ALL && s.serving()) {
        boolean[] announced = {false};
        long n;
        try {
          n = purgeHoldingKeys(s, c, () -> {
            announced[0] = true;
            listener.beforeUntrackedChange(s.group(), s.shard());
          });
        } finally {
          if (announced[0]) {
            listener.onUntrackedChange(s.group(), s.shard());
          }
        }
        if (n > 0) {
          purged.addAndGet(n);
          LOG.info("purged {} tombstone(s) of {}/{}", n, s.group(), s.shard());
        }
      }
    }
  }

  /**
   * Purges one shard with every key lock held and the purge visible to lookups before they are
   * released: a write that read a purged tombstone as its key's latest record, then stored over
   * it, would tell listeners it replaced a record the index no longer holds.
   */
  private long purgeHoldingKeys(ShardIndex s, long cutoffNanos, Runnable beforeDelete) throws IOException {
    List<ReentrantLock> held = new ArrayList<>(LOCK_STRIPES);
    try {
      for (ReentrantLock l : keyLocks) {
        l.lock();
        held.add(l);
      }
      long n = s.purgeTombstones(cutoffNanos, beforeDelete);
      if (n > 0) {
        s.refresh();
      }
      return n;
    } finally {
      for (ReentrantLock l : held) {
        l.unlock();
      }
    }
  }

  /**
   * What keeps this store from taking writes now: a failed write-ahead log, shards whose index
   * writer hit a fatal error. Empty while healthy. A restart recovers both from the log.
   */
  public List<String> storageProblems() {
    List<String> problems = new ArrayList<>();
    String walFailure = wal.failure();
    if (walFailure != null) {
      problems.add("write-ahead log refuses writes: " + walFailure);
    }
    for (ShardIndex s : shards.values()) {
      Throwable fatal = s.fatalError();
      if (fatal != null) {
        problems.add("shard " + s.group() + "/" + s.shard() + " stopped after a fatal index error and serves nothing"
            + " until a restart recovers it from the write-ahead log: " + fatal);
      }
    }
    return problems;
  }

  /** Tombstones physically removed since start. */
  public long purgedTombstones() {
    return purged.get();
  }

  /**
   * Closes and deletes this node's copy of one shard, then checkpoints so the WAL forgets it: a
   * copy this node no longer owns. Writes are held off meanwhile, so no record of the dropped copy
   * is replayed into the shard's next copy. Returns false when the shard had no copy here.
   */
  public boolean dropShard(String group, int shard) throws IOException {
    synchronized (checkpointLock) {
      writeGate.writeLock().lock();
      try {
        ShardIndex s = shards.remove(shardKey(group, shard));
        if (s == null) {
          return false;
        }
        s.rollback();
        FileTrees.deleteRecursively(ShardDirs.of(dataRoot, group, shard));
        List<Path> old = wal.roll();
        walBytesAtCheckpoint = wal.writtenBytes();
        commitAndForget(old);
      } finally {
        writeGate.writeLock().unlock();
      }
    }
    listener.onShardDropped(group, shard);
    return true;
  }

  /** Closes and deletes every shard of {@code group}, then checkpoints so the WAL forgets it. */
  public void dropGroup(String group) throws IOException {
    drop(group, null);
  }

  /**
   * Drops the group's data if it is still of incarnation {@code onlyIf} (null: whatever it is).
   * Writes are held off until the WAL segments holding the group's records are gone, so a record of
   * the dropped data is never replayed into a directory the group's next incarnation has made.
   */
  private boolean drop(String group, GroupIncarnation onlyIf) throws IOException {
    Path dir = NamedPaths.child(dataRoot, group);
    synchronized (checkpointLock) {
      writeGate.writeLock().lock();
      try {
        if (onlyIf != null && !onlyIf.equals(incarnations.get(group))) {
          return false; // someone else reconciled it first
        }
        for (ShardIndex s : shardsOf(group)) {
          shards.remove(shardKey(group, s.shard()));
          s.rollback();
        }
        synchronized (incarnationLock) {
          FileTrees.deleteRecursively(dir);
          incarnations.remove(group);
        }
        List<Path> old = wal.roll();
        walBytesAtCheckpoint = wal.writtenBytes();
        commitAndForget(old);
      } finally {
        writeGate.writeLock().unlock();
      }
    }
    listener.onGroupDropped(group);
    return true;
  }

  @Override
  public void close() throws IOException {
    try {
      checkpoint();
    } catch (IOException | RuntimeException e) {
      LOG.error("final checkpoint failed; the write-ahead log will be replayed on start", e);
    }
    closeWithoutCheckpoint();
  }

  /** After a failed open: releases everything, commits nothing, deletes no segment. */
  private void abandon() {
    try {
      closeWithoutCheckpoint();
    } catch (IOException | RuntimeException e) {
      LOG.warn("closing the store after a failed open", e);
    }
  }

  private void closeWithoutCheckpoint() throws IOException {
    IOException first = null;
    for (ShardIndex s : shards.values()) {
      try {
        s.close();
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    shards.clear();
    try {
      wal.close();
    } catch (IOException e) {
      first = first == null ? e : first;
    }
    dirLock.close();
    if (first != null) {
      throw first;
    }
  }

  private ReentrantLock lockFor(EntityKey key) {
    return keyLocks[stripeOf(key)];
  }

  private static int stripeOf(EntityKey key) {
    return Math.floorMod(key.entity().hashCode(), LOCK_STRIPES);
  }

  private static String shardKey(String group, int shard) {
    return group + "/" + shard;
  }

}
