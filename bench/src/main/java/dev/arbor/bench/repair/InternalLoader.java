package dev.arbor.bench.repair;

import dev.arbor.bench.cluster.ClusterProcesses;
import com.google.common.util.concurrent.ListenableFuture;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.ReadResponse;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.api.cluster.v1.WriteResponse;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.LastWriteWins;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ProtoTime;
import dev.arbor.property.ShardRouter;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code --load internal}: a setup shortcut that writes a scenario's data straight to the
 * replicas' {@code arbor.cluster.v1.DataNodeService.Write}, {@code batch} records per call and
 * {@code inFlight} batches at a time, instead of one public Apply per property through the
 * liaison (≈ 250–800 writes/s on a 2-core machine, 20–40 min for 1M properties).
 *
 * <p>It stores exactly what the liaison's replicated write path ({@code ReplicatedWrites} with
 * {@code ApplyPlan} / tombstones) would have stored, batch by batch instead of key by key: read
 * the keys' copies from the target replicas ({@code DataNodeService.Read}) and take the
 * last-write-wins winner as the previous version; an apply (STRATEGY_MERGE) stamps
 * {@code mod_revision = clock.next(previous revision)} from a {@link HybridClock}, keeps the
 * previous live version's {@code create_revision} (else its own revision), merges the tags (sent
 * first, then the previous ones not re-sent) and encodes the canonical source (metadata
 * group/name/create_revision/mod_revision, id, tags, updated_at = the revision) into
 * {@link PropertyRecord#live}; a delete writes the winner's {@link PropertyRecord#tombstone} (same
 * bytes and revision, delete time {@code clock.next()}). Records go through
 * {@link StoredProperties#toProto} to every <em>target</em>: the replicas that are up. A replica
 * that is down (the victim) simply does not receive them — as with the public API and
 * consistency {@code one}. Payloads come from the same generator as the public loader
 * ({@link DataLoader#property}).
 */
final class InternalLoader implements AutoCloseable {
  private static final int MAX_ATTEMPTS = 20;
  private static final long CALL_DEADLINE_S = 120;
  private static final int SHARD_NUM = 1; // every scenario group has one shard

  private final ClusterProcesses cluster;
  private final DataLoader content;
  private final int batch;
  private final int inFlight;
  private final HybridClock clock = HybridClock.system();
  private final ExecutorService pool;

  InternalLoader(ClusterProcesses cluster, DataLoader content, int batch, int inFlight) {
    this.cluster = cluster;
    this.content = content;
    this.batch = batch;
    this.inFlight = inFlight;
    this.pool = Executors.newFixedThreadPool(inFlight, r -> {
      Thread t = new Thread(r, "internal-loader");
      t.setDaemon(true);
      return t;
    });
  }

  int batch() {
    return batch;
  }

  int inFlight() {
    return inFlight;
  }

  /** Applies (STRATEGY_MERGE) version {@code version} of each property in {@code indexes}. */
  DataLoader.LoadStats apply(String group, List<String> targets, List<Integer> indexes,
      int version) throws InterruptedException {
    return run(group, targets, indexes, (i, prev) -> applied(group, i, version, prev));
  }

  /** Deletes each property in {@code indexes} by id (tombstones; an absent key is skipped). */
  DataLoader.LoadStats delete(String group, List<String> targets, List<Integer> indexes)
      throws InterruptedException {
    return run(group, targets, indexes, (i, prev) -> prev == null ? null
        : prev.deleted() ? prev : prev.tombstone(clock.next()));
  }

  private interface NextVersion {
    /** The record to store for index {@code i} given its previous winner (null: nothing). */
    PropertyRecord next(int i, PropertyRecord prev);
  }

  /** {@code ApplyPlan.next} of the liaison, for one key. */
  private PropertyRecord applied(String group, int i, int version, PropertyRecord prev) {
    EntityKey key = key(group, i);
    Property sentProperty = content.property(group, i, version);
    List<Tag> sent = sentProperty.getTagsList();
    PropertyRecord livePrev = prev != null && !prev.deleted() ? prev : null;
    List<Tag> tags = livePrev == null ? sent : merge(sent, livePrev);
    long rev = clock.next(prev == null ? Long.MIN_VALUE + 1 : prev.modRevision());
    long createRev = livePrev != null ? livePrev.createRevision() : rev;
    return PropertyRecord.live(key, rev, createRev, encode(key, rev, createRev, tags));
  }

  /** The canonical source bytes the liaison's {@code ApplyPlan} stores for a version. */
  static byte[] encode(EntityKey key, long rev, long createRev, List<Tag> tags) {
    return dev.arbor.bench.cluster.LiaisonRecords.encode(key, rev, createRev, tags);
  }

  /**
   * Guards the shortcut against drifting from the liaison: reads a property that the liaison
   * stored through the public API ({@code group/item/id(index)}, live) from {@code node} and
   * checks that {@link #encode} of its key, revisions and tags gives exactly its bytes and hash.
   */
  void checkEncodingAgainstLiaison(String node, String group, int index) {
    EntityKey key = key(group, index);
    ReadResponse r = DataNodeServiceGrpc.newBlockingStub(cluster.channel(node))
        .withDeadlineAfter(30, TimeUnit.SECONDS)
        .read(ReadRequest.newBuilder().addKeys(Key.newBuilder().setGroup(group)
            .setShard(ShardRouter.shardOf(key, SHARD_NUM)).setEntity(key.entity())).build());
    if (r.getPropertiesCount() != 1) {
      throw new IllegalStateException(node + " does not hold " + key + " written by the liaison");
    }
    PropertyRecord stored = StoredProperties.fromProto(r.getProperties(0), "read").record();
    Property p;
    try {
      p = Property.parseFrom(stored.source());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException("unreadable source of " + key, e);
    }
    PropertyRecord ours = PropertyRecord.live(key, stored.modRevision(), stored.createRevision(),
        encode(key, stored.modRevision(), stored.createRevision(), p.getTagsList()));
    if (stored.deleted() || !ours.equals(stored)
        || p.getMetadata().getModRevision() != stored.modRevision()
        || p.getMetadata().getCreateRevision() != stored.createRevision()) {
      throw new IllegalStateException("--load internal would not store what the liaison stores: "
          + key + " from the liaison is " + stored + " (" + stored.source().length + " B: " + p
          + "), the internal encoding of it " + ours + " (" + ours.source().length + " B)");
    }
  }

  /**
   * Sent tags first, then the previous tags not re-sent, in their stored order (every previous
   * tag was written by this benchmark under the scenario's schema, so all of them are accepted).
   */
  private static List<Tag> merge(List<Tag> sent, PropertyRecord prev) {
    Property old;
    try {
      old = Property.parseFrom(prev.source());
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException("stored property " + prev.key() + " is unreadable", e);
    }
    Set<String> sentKeys = new HashSet<>();
    sent.forEach(t -> sentKeys.add(t.getKey()));
    List<Tag> out = new ArrayList<>(sent);
    for (Tag t : old.getTagsList()) {
      if (!sentKeys.contains(t.getKey())) {
        out.add(t);
      }
    }
    return out;
  }

  private static EntityKey key(String group, int i) {
    return new EntityKey(group, DataLoader.SCHEMA, DataLoader.id(i));
  }

  private DataLoader.LoadStats run(String group, List<String> targets, List<Integer> indexes,
      NextVersion next) throws InterruptedException {
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("no target replica");
    }
    long t0 = System.nanoTime();
    AtomicLong retries = new AtomicLong();
    AtomicLong notStored = new AtomicLong();
    AtomicReference<String> lastError = new AtomicReference<>();
    List<Future<Integer>> pending = new ArrayList<>();
    int requested = 0;
    for (int from = 0; from < indexes.size(); from += batch) {
      List<Integer> slice = indexes.subList(from, Math.min(indexes.size(), from + batch));
      pending.add(pool.submit(() -> batch(group, targets, slice, next, retries, notStored,
          lastError)));
      // At most inFlight batches queued or running (bounded memory).
      if (pending.size() >= inFlight) {
        requested += await(pending.remove(0));
      }
    }
    for (Future<Integer> f : pending) {
      requested += await(f);
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    if (notStored.get() > 0) {
      RepairBench.log("WARNING: internal load: %,d record copies were not stored by their target"
          + " (the node held them or newer: a retried call?)", notStored.get());
    }
    return new DataLoader.LoadStats(requested, ms, retries.get(), lastError.get());
  }

  private static int await(Future<Integer> f) throws InterruptedException {
    try {
      return f.get();
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      throw c instanceof RuntimeException r ? r : new IllegalStateException(c);
    }
  }

  /** One batch: read the previous winners, compute the records, write them to every target. */
  private int batch(String group, List<String> targets, List<Integer> slice, NextVersion next,
      AtomicLong retries, AtomicLong notStored, AtomicReference<String> lastError) {
    ReadRequest.Builder read = ReadRequest.newBuilder();
    for (int i : slice) {
      EntityKey k = key(group, i);
      read.addKeys(Key.newBuilder().setGroup(group).setShard(ShardRouter.shardOf(k, SHARD_NUM))
          .setEntity(k.entity()));
    }
    ReadRequest readRequest = read.build();
    Map<String, PropertyRecord> winners = new HashMap<>();
    // Every target in parallel (as the liaison's pre-read), then their winner per key.
    List<ListenableFuture<ReadResponse>> reads = new ArrayList<>();
    for (String node : targets) {
      reads.add(stub(node).read(readRequest));
    }
    for (int k = 0; k < targets.size(); k++) {
      String node = targets.get(k);
      ReadResponse r = await(node, "Read", reads.get(k), retries, lastError,
          () -> stub(node).read(readRequest));
      for (StoredProperty p : r.getPropertiesList()) {
        PropertyRecord rec = StoredProperties.fromProto(p, "read").record();
        winners.merge(p.getEntity(), rec, (a, b) -> LastWriteWins.beats(b, a) ? b : a);
      }
    }
    WriteRequest.Builder write = WriteRequest.newBuilder();
    for (int i : slice) {
      EntityKey k = key(group, i);
      PropertyRecord rec = next.next(i, winners.get(k.entity()));
      if (rec != null) {
        write.addProperties(StoredProperties.toProto(group, ShardRouter.shardOf(k, SHARD_NUM), rec));
      }
    }
    WriteRequest writeRequest = write.build();
    if (writeRequest.getPropertiesCount() == 0) {
      return slice.size();
    }
    // Every target in parallel, then wait for each (a failed call is retried on its own).
    List<ListenableFuture<WriteResponse>> writes = new ArrayList<>();
    for (String node : targets) {
      writes.add(stub(node).write(writeRequest));
    }
    for (int k = 0; k < targets.size(); k++) {
      String node = targets.get(k);
      WriteResponse w = await(node, "Write", writes.get(k), retries, lastError,
          () -> stub(node).write(writeRequest));
      notStored.addAndGet(writeRequest.getPropertiesCount() - w.getStored());
    }
    return slice.size();
  }

  private DataNodeServiceGrpc.DataNodeServiceFutureStub stub(String node) {
    return DataNodeServiceGrpc.newFutureStub(cluster.channel(node))
        .withDeadlineAfter(CALL_DEADLINE_S, TimeUnit.SECONDS);
  }

  /** The answer of a call already issued; a failure is retried (bounded) with {@link #call}. */
  private <T> T await(String node, String what, ListenableFuture<T> first, AtomicLong retries,
      AtomicReference<String> lastError, java.util.function.Supplier<ListenableFuture<T>> again) {
    try {
      return first.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      Status s = Status.fromThrowable(e.getCause());
      lastError.set(node + " " + what + ": " + s.getCode() + ": " + s.getDescription());
      if (s.getCode() == Status.Code.INVALID_ARGUMENT) {
        throw new IllegalStateException("internal load: " + what + " on " + node + " refused: "
            + s.getDescription(), e.getCause());
      }
      retries.incrementAndGet();
      return call(node, what, retries, lastError, again);
    }
  }

  /** A unary call with bounded retries (not on INVALID_ARGUMENT, which no retry can fix). */
  private <T> T call(String node, String what, AtomicLong retries,
      AtomicReference<String> lastError, java.util.function.Supplier<ListenableFuture<T>> call) {
    for (int attempt = 1; ; attempt++) {
      try {
        return call.get().get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      } catch (ExecutionException e) {
        Status s = Status.fromThrowable(e.getCause());
        lastError.set(node + " " + what + ": " + s.getCode() + ": " + s.getDescription());
        if (attempt >= MAX_ATTEMPTS || s.getCode() == Status.Code.INVALID_ARGUMENT) {
          throw new IllegalStateException("internal load: " + what + " on " + node + " failed after "
              + attempt + " attempt(s): " + s.getCode() + ": " + s.getDescription(), e.getCause());
        }
        retries.incrementAndGet();
        try {
          TimeUnit.MILLISECONDS.sleep(Math.min(1000, 50L * attempt));
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted", ie);
        }
      }
    }
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
