package dev.arbor.bench;

import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.ReadResponse;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.bench.cluster.ClusterProcesses;
import dev.arbor.bench.cluster.LiaisonRecords;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.property.EntityKey;
import dev.arbor.property.HybridClock;
import dev.arbor.property.LastWriteWins;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import io.grpc.ManagedChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Makes replicas disagree for the API benchmark's disagreeing-query scenario: one loaded key in
 * {@code every} ({@code q-i} with {@code i % every == every / 2}) gets a newer version (same tags,
 * a later revision from a hybrid clock, the bytes the liaison would store) written through the
 * internal {@code DataNodeService.Write} to <em>one</em> replica only, the first data node that
 * holds it. The liaison's read repair makes the copies agree again once a query has seen the
 * difference, so the scenario walks the ids in order and calls {@link #rediverge} for the half of
 * the id range it has just left: by the time the walk comes back, those keys disagree again.
 */
final class Divergence implements AutoCloseable {
  private static final long DEADLINE_S = 60;

  private final Map<String, ManagedChannel> nodes = new LinkedHashMap<>();
  private final String group;
  private final int shards;
  private final int loaded;
  private final int every;
  private final HybridClock clock = HybridClock.system();
  private final ExecutorService background = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "bench-diverge");
    t.setDaemon(true);
    return t;
  });
  private final AtomicBoolean running = new AtomicBoolean();
  private final AtomicLong diverged = new AtomicLong();
  private final AtomicReference<String> lastError = new AtomicReference<>();

  /**
   * @param dataNodes data node id to internal address
   * @param loaded keys {@code q-0 .. q-(loaded-1)} exist
   */
  Divergence(Map<String, String> dataNodes, String group, int shards, int loaded, int every) {
    this(dataNodes, id -> dev.arbor.transport.ChannelFactory.plaintext(), group, shards, loaded,
        every);
  }

  /** As above, the channel to each data node from {@code channels} (by node id). */
  Divergence(Map<String, String> dataNodes,
      java.util.function.Function<String, dev.arbor.transport.ChannelFactory> channels,
      String group, int shards, int loaded, int every) {
    dataNodes.forEach((id, address) -> nodes.put(id, channels.apply(id)
        .open(address, ClusterProcesses.MAX_MESSAGE)));
    this.group = group;
    this.shards = shards;
    this.loaded = loaded;
    this.every = every;
  }

  /** The keys that disagree in half {@code half} (0: the first half of the ids, 1: the rest). */
  List<Integer> keys(int half) {
    List<Integer> out = new ArrayList<>();
    int from = half == 0 ? 0 : loaded / 2;
    int to = half == 0 ? loaded / 2 : loaded;
    for (int i = every / 2; i < loaded; i += every) {
      if (i >= from && i < to) {
        out.add(i);
      }
    }
    return out;
  }

  /** Both halves, now: returns how many keys disagree afterwards. */
  int divergeAll() {
    return diverge(keys(0)) + diverge(keys(1));
  }

  /** The keys of {@code half} again, in the background (skipped while one is still running). */
  void rediverge(int half) {
    if (!running.compareAndSet(false, true)) {
      return;
    }
    background.execute(() -> {
      try {
        diverge(keys(half));
      } catch (RuntimeException e) {
        lastError.set(ClosedLoop.describe(e));
      } finally {
        running.set(false);
      }
    });
  }

  /** Keys made to disagree so far (each time counted). */
  long diverged() {
    return diverged.get();
  }

  String lastError() {
    return lastError.get();
  }

  /** Reads the keys from every data node and writes a newer version to the first holder of each. */
  int diverge(List<Integer> indexes) {
    if (indexes.isEmpty()) {
      return 0;
    }
    ReadRequest.Builder read = ReadRequest.newBuilder();
    for (int i : indexes) {
      EntityKey k = key(i);
      read.addKeys(Key.newBuilder().setGroup(group).setShard(ShardRouter.shardOf(k, shards))
          .setEntity(k.entity()));
    }
    Map<String, List<String>> holders = new HashMap<>();
    Map<String, PropertyRecord> winners = new HashMap<>();
    for (Map.Entry<String, ManagedChannel> n : nodes.entrySet()) {
      ReadResponse r = DataNodeServiceGrpc.newBlockingStub(n.getValue())
          .withDeadlineAfter(DEADLINE_S, TimeUnit.SECONDS).read(read.build());
      for (StoredProperty p : r.getPropertiesList()) {
        holders.computeIfAbsent(p.getEntity(), e -> new ArrayList<>()).add(n.getKey());
        PropertyRecord rec = StoredProperties.fromProto(p, "read").record();
        winners.merge(p.getEntity(), rec, (a, b) -> LastWriteWins.beats(b, a) ? b : a);
      }
    }
    Map<String, WriteRequest.Builder> writes = new LinkedHashMap<>();
    for (int i : indexes) {
      EntityKey k = key(i);
      List<String> on = holders.get(k.entity());
      PropertyRecord w = winners.get(k.entity());
      if (on == null || on.size() < 2 || w == null || w.deleted()) {
        continue; // one copy (or none) cannot disagree
      }
      List<Tag> tags;
      try {
        tags = Property.parseFrom(w.source()).getTagsList();
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new IllegalStateException("unreadable source of " + k, e);
      }
      long rev = clock.next(w.modRevision());
      PropertyRecord newer = PropertyRecord.live(k, rev, w.createRevision(),
          LiaisonRecords.encode(k, rev, w.createRevision(), tags));
      writes.computeIfAbsent(on.get(0), x -> WriteRequest.newBuilder())
          .addProperties(StoredProperties.toProto(group, ShardRouter.shardOf(k, shards), newer));
    }
    int n = 0;
    for (Map.Entry<String, WriteRequest.Builder> w : writes.entrySet()) {
      WriteRequest req = w.getValue().build();
      DataNodeServiceGrpc.newBlockingStub(nodes.get(w.getKey()))
          .withDeadlineAfter(DEADLINE_S, TimeUnit.SECONDS).write(req);
      n += req.getPropertiesCount();
    }
    diverged.addAndGet(n);
    return n;
  }

  private EntityKey key(int i) {
    return new EntityKey(group, ApiWorkload.SCHEMA, "q-" + i);
  }

  @Override
  public void close() {
    background.shutdownNow();
    nodes.values().forEach(ManagedChannel::shutdownNow);
  }
}
