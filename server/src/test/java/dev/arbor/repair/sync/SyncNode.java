package dev.arbor.repair.sync;

import dev.arbor.observability.trace.SpanRecorder;
import dev.arbor.observability.trace.Tracer;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.repair.tree.RepairTrees;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardWrite;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.BareServers;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One replica for session tests: a real {@link PropertyStore} (WAL + Lucene shards) and its
 * {@link RepairTrees} on disk, serving {@code RepairService} over real gRPC on loopback, and a
 * {@link RepairSessionClient} to repair against another replica. Optional interceptors inject
 * transport faults (a stream cut) that cannot be produced deterministically otherwise.
 */
final class SyncNode implements AutoCloseable {
  final String id;
  final int shards;
  final PropertyStore store;
  final RepairTrees trees;
  final RepairSessionClient client;
  final Observed observed = new Observed();
  /** Bytes of every stream this node served, as gRPC put them on and took them off the wire. */
  final WireBytes wire = new WireBytes();
  private final Server server;
  private final ManagedChannel channelToSelf;

  SyncNode(Path dir, String id, int shards, ServerInterceptor... faults) throws IOException {
    this(dir, id, shards, dev.arbor.storage.GroupIncarnations.withoutIncarnations(g -> true), faults);
  }

  /** A node whose metadata is {@code groups} (groups and their incarnations). */
  SyncNode(Path dir, String id, int shards, dev.arbor.storage.GroupIncarnations groups, ServerInterceptor... faults)
      throws IOException {
    this(dir, id, shards, groups, dev.arbor.storage.CopyFence.NONE, faults);
  }

  /** A node whose copies {@code fence} refuses take no part in repair (orphans). */
  SyncNode(Path dir, String id, int shards, dev.arbor.storage.GroupIncarnations groups,
      dev.arbor.storage.CopyFence fence, ServerInterceptor... faults) throws IOException {
    this(dir, id, shards, groups, fence, BulkSettings.DEFAULTS, faults);
  }

  /** A node offering and taking bulk transfers as {@code bulk} says. */
  SyncNode(Path dir, String id, int shards, dev.arbor.storage.GroupIncarnations groups,
      dev.arbor.storage.CopyFence fence, BulkSettings bulk, ServerInterceptor... faults) throws IOException {
    this(dir, id, shards, groups, fence, bulk, SessionProtocols.DEFAULTS, faults);
  }

  /** A node speaking the session protocols {@code protocols} (standing in for another release). */
  SyncNode(Path dir, String id, int shards, SessionProtocols protocols) throws IOException {
    this(dir, id, shards, dev.arbor.storage.GroupIncarnations.withoutIncarnations(g -> true),
        dev.arbor.storage.CopyFence.NONE, BulkSettings.DEFAULTS, protocols);
  }

  SyncNode(Path dir, String id, int shards, dev.arbor.storage.GroupIncarnations groups,
      dev.arbor.storage.CopyFence fence, BulkSettings bulk, SessionProtocols protocols, ServerInterceptor... faults)
      throws IOException {
    this(dir, id, shards, groups, fence, bulk, protocols, dev.arbor.property.DefectSwitches.NONE, faults);
  }

  /** A node whose sessions (both ends) run with the test-only {@code defects} switched on. */
  SyncNode(Path dir, String id, int shards, dev.arbor.property.DefectSwitches defects) throws IOException {
    this(dir, id, shards, dev.arbor.storage.GroupIncarnations.withoutIncarnations(g -> true),
        dev.arbor.storage.CopyFence.NONE, BulkSettings.DEFAULTS, SessionProtocols.DEFAULTS, defects);
  }

  SyncNode(Path dir, String id, int shards, dev.arbor.storage.GroupIncarnations groups,
      dev.arbor.storage.CopyFence fence, BulkSettings bulk, SessionProtocols protocols,
      dev.arbor.property.DefectSwitches defects, ServerInterceptor... faults) throws IOException {
    this.id = id;
    this.shards = shards;
    var events = new dev.arbor.storage.StoreEvents();
    store = PropertyStore.open(dir.resolve(id).resolve("data"), groups, events);
    var incarnations = new dev.arbor.storage.IncarnationGate(store, groups, Duration.ofMillis(200));
    trees = new RepairTrees(dir.resolve(id).resolve("repair"), store, 32);
    // As the server wires it: trees kept current by every write, so sessions use them at once.
    trees.followWrites(events);
    ShardCheck any = new ShardCheck() {
      @Override
      public java.util.OptionalInt shardNum(String group) {
        return java.util.OptionalInt.of(shards);
      }

      @Override
      public String copyRefusal(String group, int shard) {
        return fence.refusal(group, shard);
      }
    }.withDefects(defects);
    Tracer tracer = new Tracer(id, SpanRecorder.NONE);
    RepairGrpcService svc = new RepairGrpcService(store, trees, any, incarnations, Duration.ofSeconds(30), tracer,
        observed, (g, s) -> {}, null, bulk, protocols);
    server = BareServers.start("127.0.0.1", 0, List.of(ServerInterceptors.intercept(svc, faults)), List.of(wire));
    client = new RepairSessionClient(id, store, trees, any, incarnations, Duration.ofSeconds(30), Duration.ofSeconds(30),
        observed, (g, s) -> {}, bulk, protocols);
    channelToSelf = ChannelFactory.plaintext().open("127.0.0.1:" + server.getPort(), 64 << 20);
  }

  /** What this node's sessions reported (as the metrics would see it). */
  static final class Observed implements SessionObserver {
    final java.util.concurrent.atomic.AtomicLong rejected = new java.util.concurrent.atomic.AtomicLong();
    /** Error of every server session that ended, in order ("" for success). */
    final java.util.concurrent.LinkedBlockingQueue<String> serverSessions = new java.util.concurrent.LinkedBlockingQueue<>();

    /** "role:peerFormat" of every session refused for another tree format. */
    final java.util.concurrent.LinkedBlockingQueue<String> formatMismatches = new java.util.concurrent.LinkedBlockingQueue<>();

    @Override
    public void treeFormatMismatch(String group, int shard, String peer, String role, int peerFormat) {
      formatMismatches.add(role + ":" + peerFormat);
    }

    /** "role:protocol" of every session that fell back to an older protocol. */
    final java.util.concurrent.LinkedBlockingQueue<String> fallbacks = new java.util.concurrent.LinkedBlockingQueue<>();
    /** "role:peerProtocol" of every session refused for having no protocol in common. */
    final java.util.concurrent.LinkedBlockingQueue<String> protocolMismatches =
        new java.util.concurrent.LinkedBlockingQueue<>();

    @Override
    public void protocolFallback(String group, int shard, String peer, String role, int protocol) {
      fallbacks.add(role + ":" + protocol);
    }

    @Override
    public void protocolMismatch(String group, int shard, String peer, String role, int peerProtocol) {
      protocolMismatches.add(role + ":" + peerProtocol);
    }

    @Override
    public void recordsRejected(String group, int shard, long count) {
      rejected.addAndGet(count);
    }

    @Override
    public void serverSessionEnded(String group, int shard, String client, long stored, long sent, long bytesIn,
        long bytesOut, String error) {
      serverSessions.add(error == null ? "" : error);
    }
  }

  /** Errors of the server sessions that ended so far ("" for success), waiting briefly for the first. */
  List<String> serverSessionsEnded() throws InterruptedException {
    List<String> out = new ArrayList<>();
    String first = observed.serverSessions.poll(10, java.util.concurrent.TimeUnit.SECONDS);
    if (first != null) {
      out.add(first);
      observed.serverSessions.drainTo(out);
    }
    return out;
  }

  /** Stores {@code r} in {@code shard} whether or not its entity routes there (a misrouted copy). */
  void putInShard(int shard, PropertyRecord r) {
    store.applyIfNewer(List.of(new ShardWrite(r.key().group(), shard, r)));
  }

  /** A channel other nodes use to reach this one. */
  ManagedChannel channel() {
    return channelToSelf;
  }

  int shardOf(PropertyRecord r) {
    return ShardRouter.shardOf(r.key(), shards);
  }

  void put(PropertyRecord... records) {
    putAll(List.of(records));
  }

  /** Stores each key's last-write-wins winner among {@code records} (one durable batch). */
  void putAll(List<PropertyRecord> records) {
    Map<EntityKey, PropertyRecord> best = new java.util.LinkedHashMap<>();
    for (PropertyRecord r : records) {
      best.merge(r.key(), r, (a, b) -> dev.arbor.property.LastWriteWins.beats(b, a) ? b : a);
    }
    List<ShardWrite> w = new ArrayList<>();
    for (PropertyRecord r : best.values()) {
      w.add(new ShardWrite(r.key().group(), shardOf(r), r));
    }
    store.applyIfNewer(w);
  }

  PropertyRecord get(String group, String id) {
    EntityKey k = new EntityKey(group, "t", id);
    return store.latest(group, ShardRouter.shardOf(k, shards), k);
  }

  /** Repairs (group, shard) with {@code server} as the session server. */
  SessionFigures syncWith(SyncNode server, String group, int shard) {
    return client.run(server.channel(), server.id, group, shard, null, io.grpc.Deadline.after(60,
        java.util.concurrent.TimeUnit.SECONDS));
  }

  /** Every record of the given ids this node holds, by id. */
  Map<String, PropertyRecord> snapshot(String group, List<String> ids) {
    Map<String, PropertyRecord> m = new TreeMap<>();
    for (String i : ids) {
      PropertyRecord r = get(group, i);
      if (r != null) {
        m.put(i, r);
      }
    }
    return m;
  }

  @Override
  public void close() throws IOException {
    channelToSelf.shutdownNow();
    server.shutdownNow();
    trees.close();
    store.close();
  }
}
