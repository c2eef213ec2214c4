package dev.arbor.storage;

import dev.arbor.property.EntityKey;
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
 */
public final class PropertyStore implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(PropertyStore.class);
  private static final int LOCK_STRIPES = 1024;

  private final Path dataRoot;
  private final DataDirLock dirLock;
  private final WriteAheadLog wal;
  private final Map<String, ShardIndex> shards = new ConcurrentHashMap<>();
  private final ReentrantLock[] keyLocks = new ReentrantLock[LOCK_STRIPES];
  /** Writers hold the read side across WAL append + index apply; checkpoints take the write side. */
  private final ReentrantReadWriteLock writeGate = new ReentrantReadWriteLock();
  private final Object checkpointLock = new Object();
  private final StoreListener listener;
  private volatile long walBytesAtCheckpoint;

  private PropertyStore(Path dir, DataDirLock dirLock, WriteAheadLog wal, StoreListener listener) {
    this.dataRoot = dir.resolve("data");
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
    DataDirLock lock = DataDirLock.acquire(dir);
    WriteAheadLog.Recovered rec;
    try {
      rec = WriteAheadLog.open(dir.resolve("wal"));
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
    PropertyStore store = new PropertyStore(dir, lock, rec.log(), listener);
    try {
      store.openExistingShards(groupExists);
      store.recover(rec, groupExists);
      store.checkpoint();
    } catch (IOException | RuntimeException e) {
      // No checkpoint: it would delete segments whose records were never applied.
      store.abandon();
      throw e;
    }
    return store;
  }

  /** Replays the recovered WAL into the indexes, a chunk of records at a time. */
  private void recover(WriteAheadLog.Recovered rec, Predicate<String> groupExists) throws IOException {
    Replay replay = new Replay();
    List<ShardWrite> chunk = new ArrayList<>(REPLAY_CHUNK);
    rec.replay((segment, offset, payload) -> {
      for (ShardWrite w : decodeFrame(segment, offset, payload)) {
        if (groupExists.test(w.group())) {
          chunk.add(w);
        }
      }
      if (chunk.size() >= REPLAY_CHUNK) {
        replay(chunk, replay);
        chunk.clear();
      }
    });
    replay(chunk, replay);
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
    List<ShardWrite> winners = decide(writes).winners();
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

  private void openExistingShards(Predicate<String> groupExists) throws IOException {
    if (!Files.isDirectory(dataRoot)) {
      return;
    }
    try (Stream<Path> groups = Files.list(dataRoot)) {
      for (Path g : groups.filter(Files::isDirectory).toList()) {
        String group = g.getFileName().toString();
        if (!Names.isValidName(group)) {
          // Not a directory Arbor made: leave it alone rather than guess what it is.
          LOG.warn("ignoring unexpected entry {} in the data directory", g);
          continue;
        }
        if (!groupExists.test(group)) {
          LOG.warn("removing data of group {} which no longer exists", group);
          FileTrees.deleteRecursively(g);
          continue;
        }
        try (Stream<Path> ss = Files.list(g)) {
          for (Path s : ss.toList()) {
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
  }

  /** The index of (group, shard), opened or created on first use. */
  public ShardIndex shard(String group, int shard) {
    return shards.computeIfAbsent(
        shardKey(group, shard),
        k -> {
          try {
            Path p = ShardDirs.of(dataRoot, group, shard);
            Files.createDirectories(p);
            return new ShardIndex(group, shard, p);
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
      KeyUpdate<R> u = decide.apply(latest(group, shard, key));
      if (u.next() != null) {
        writeDurably(List.of(new ShardWrite(group, shard, u.next())));
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
      for (EntityKey k : keys) {
        int shard = shardOf.apply(k);
        PropertyRecord next = decide.apply(latest(group, shard, k));
        if (next != null) {
          writes.add(new ShardWrite(group, shard, next));
        }
      }
      if (!writes.isEmpty()) {
        writeDurably(writes);
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
    return withKeyLocks(incoming.stream().map(w -> w.record().key()).toList(), () -> {
      Decision d = decide(incoming);
      if (!d.winners().isEmpty()) {
        writeDurably(d.winners());
      }
      return d.outcomes();
    });
  }

  /** What a batch does: each record's outcome (aligned with the batch) and the records to write. */
  private record Decision(List<ApplyOutcome> outcomes, List<ShardWrite> winners) {}

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
      if (!LastWriteWins.beats(r, current[i])) {
        outcomes[i] = r.equals(current[i]) ? ApplyOutcome.NOT_STORED_EQUAL : ApplyOutcome.NOT_STORED_NEWER;
        continue;
      }
      String slot = shardKey(w.group(), w.shard()) + "/" + r.key().entity();
      Integer prev = winnerOf.get(slot);
      if (prev == null) {
        winnerOf.put(slot, i);
        outcomes[i] = ApplyOutcome.STORED;
      } else if (LastWriteWins.beats(r, incoming.get(prev).record())) {
        outcomes[prev] = ApplyOutcome.NOT_STORED_NEWER;
        winnerOf.put(slot, i);
        outcomes[i] = ApplyOutcome.STORED;
      } else {
        outcomes[i] = r.equals(incoming.get(prev).record())
            ? ApplyOutcome.NOT_STORED_EQUAL : ApplyOutcome.NOT_STORED_NEWER;
      }
    }
    List<ShardWrite> winners = new ArrayList<>(winnerOf.size());
    for (int i : winnerOf.values()) {
      winners.add(incoming.get(i));
    }
    return new Decision(List.of(outcomes), winners);
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

  private void writeDurably(List<ShardWrite> writes) {
    // Documents are built before anything is logged, so a record the index cannot take is
    // rejected without reaching the WAL.
    List<org.apache.lucene.document.Document> docs = new ArrayList<>(writes.size());
    for (ShardWrite w : writes) {
      docs.add(DocumentCodec.toDocument(w.record()));
    }
    byte[] payload = WalBatchCodec.encode(writes);
    writeGate.readLock().lock();
    try {
      long pos = wal.append(payload);
      wal.awaitDurable(pos);
      for (int i = 0; i < writes.size(); i++) {
        ShardWrite w = writes.get(i);
        shard(w.group(), w.shard()).put(w.record(), docs.get(i));
      }
    } catch (IOException e) {
      throw new StorageException("index write failed: " + e.getMessage(), e);
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
      for (ShardIndex s : shards.values()) {
        s.commit();
      }
      wal.deleteSegments(old);
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
    for (ShardIndex s : shards.values()) {
      s.purgeTombstones(cutoffNanos);
    }
  }

  /** Closes and deletes every shard of {@code group}, then checkpoints so the WAL forgets it. */
  public void dropGroup(String group) throws IOException {
    writeGate.writeLock().lock();
    try {
      for (ShardIndex s : shardsOf(group)) {
        shards.remove(shardKey(group, s.shard()));
        s.rollback();
      }
      FileTrees.deleteRecursively(NamedPaths.child(dataRoot, group));
    } finally {
      writeGate.writeLock().unlock();
    }
    checkpoint();
    listener.onGroupDropped(group);
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
