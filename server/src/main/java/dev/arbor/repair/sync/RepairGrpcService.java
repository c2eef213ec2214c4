package dev.arbor.repair.sync;

import dev.arbor.api.repair.v1.RepairServiceGrpc;
import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SessionResponse;
import dev.arbor.observability.trace.Tracer;
import dev.arbor.repair.tree.RepairTrees;
import dev.arbor.storage.IncarnationGate;
import dev.arbor.storage.PropertyStore;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.function.BiConsumer;

/** {@code arbor.repair.v1.RepairService}: one {@link RepairSessionServer} per stream. */
public final class RepairGrpcService extends RepairServiceGrpc.RepairServiceImplBase {
  private final PropertyStore store;
  private final RepairTrees trees;
  private final ShardCheck shardCheck;
  private final IncarnationGate incarnations;
  private final Duration treeWait;
  private final Tracer tracer;
  private final SessionObserver observer;
  private final BiConsumer<String, Integer> rebuild;
  private final SessionGate gate;
  private final BulkSettings bulk;
  private final SessionProtocols protocols;

  /**
   * @param incarnations refuses sessions from a client holding another incarnation of the group
   * @param treeWait how long a session waits for a running build of its shard's tree
   * @param rebuild asked to rebuild a shard's tree after a session stored records in it
   */
  public RepairGrpcService(PropertyStore store, RepairTrees trees, ShardCheck shardCheck,
      IncarnationGate incarnations, Duration treeWait, Tracer tracer, SessionObserver observer,
      BiConsumer<String, Integer> rebuild) {
    this(store, trees, shardCheck, incarnations, treeWait, tracer, observer, rebuild, null);
  }

  /** @param gate caps and times out the sessions this node serves (null: no cap, for tests) */
  public RepairGrpcService(PropertyStore store, RepairTrees trees, ShardCheck shardCheck,
      IncarnationGate incarnations, Duration treeWait, Tracer tracer, SessionObserver observer,
      BiConsumer<String, Integer> rebuild, SessionGate gate) {
    this(store, trees, shardCheck, incarnations, treeWait, tracer, observer, rebuild, gate, BulkSettings.DEFAULTS);
  }

  /** @param bulk whether this node takes bulk transfers into its empty copies */
  public RepairGrpcService(PropertyStore store, RepairTrees trees, ShardCheck shardCheck,
      IncarnationGate incarnations, Duration treeWait, Tracer tracer, SessionObserver observer,
      BiConsumer<String, Integer> rebuild, SessionGate gate, BulkSettings bulk) {
    this(store, trees, shardCheck, incarnations, treeWait, tracer, observer, rebuild, gate, bulk,
        SessionProtocols.DEFAULTS);
  }

  /** @param protocols the session protocols this node serves (tests stand in for other releases) */
  public RepairGrpcService(PropertyStore store, RepairTrees trees, ShardCheck shardCheck,
      IncarnationGate incarnations, Duration treeWait, Tracer tracer, SessionObserver observer,
      BiConsumer<String, Integer> rebuild, SessionGate gate, BulkSettings bulk, SessionProtocols protocols) {
    this.protocols = protocols;
    this.bulk = bulk;
    this.gate = gate;
    this.store = store;
    this.trees = trees;
    this.shardCheck = shardCheck;
    this.incarnations = incarnations;
    this.treeWait = treeWait;
    this.tracer = tracer;
    this.observer = observer;
    this.rebuild = rebuild;
  }

  @Override
  public StreamObserver<SessionRequest> repair(StreamObserver<SessionResponse> responses) {
    return ReadWhenWritable.wrap(responses, this::open);
  }

  private StreamObserver<SessionRequest> open(StreamObserver<SessionResponse> responses) {
    if (gate == null) {
      return new RepairSessionServer(responses, store, trees, shardCheck, incarnations, treeWait, tracer, observer,
          rebuild, bulk, protocols);
    }
    return gate.open(responses, out -> new RepairSessionServer(out, store, trees, shardCheck, incarnations, treeWait,
        tracer, observer, rebuild, bulk, protocols));
  }
}
