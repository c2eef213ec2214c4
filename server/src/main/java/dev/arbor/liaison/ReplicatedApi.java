package dev.arbor.liaison;

import dev.arbor.cluster.DataNodes;
import dev.arbor.cluster.WriteConsistency;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.MetadataValidator;
import dev.arbor.metadata.SchemaLookup;
import dev.arbor.property.Defect;
import dev.arbor.property.DefectSwitches;
import dev.arbor.property.HybridClock;
import dev.arbor.runtime.NodeRuntime;
import io.grpc.BindableService;
import java.util.List;
import java.util.function.Supplier;

/**
 * The public gRPC services of a liaison: the same BanyanDB API as standalone, over replicas on
 * data nodes. Owns the fan-out pool and the read-repair queue; close it with the liaison.
 */
public final class ReplicatedApi implements AutoCloseable {
  private final ReplicaCalls calls;
  private final ReadRepairQueue repairs;
  private final List<BindableService> services;

  /**
   * @param consistency the write consistency of the current request (default or per request)
   * @param repairQueueSize bound of the read-repair queue
   */
  public ReplicatedApi(
      MetadataStore metadata, DataNodes nodes, HybridClock clock, RequestLimits limits, String revision,
      Supplier<WriteConsistency> consistency, int repairQueueSize) {
    this(metadata, nodes, clock, limits, revision, consistency, repairQueueSize, ReplicaCallLimits.DEFAULTS);
  }

  /** As above, with the fan-out to data nodes held to {@code fanOut}. */
  public ReplicatedApi(
      MetadataStore metadata, DataNodes nodes, HybridClock clock, RequestLimits limits, String revision,
      Supplier<WriteConsistency> consistency, int repairQueueSize, ReplicaCallLimits fanOut) {
    this(NodeRuntime.system(), metadata, nodes, clock, limits, revision, consistency, repairQueueSize, fanOut,
        DefectSwitches.NONE);
  }

  /** As above, on the liaison's runtime (the fan-out pool's and the read repairs' threads). */
  public ReplicatedApi(NodeRuntime runtime,
      MetadataStore metadata, DataNodes nodes, HybridClock clock, RequestLimits limits, String revision,
      Supplier<WriteConsistency> consistency, int repairQueueSize, ReplicaCallLimits fanOut) {
    this(runtime, metadata, nodes, clock, limits, revision, consistency, repairQueueSize, fanOut,
        DefectSwitches.NONE);
  }

  /**
   * As above, with test-only {@code defects} switched back on (see {@link DefectSwitches}):
   * {@link Defect#TOMBSTONE_KEEPS_OLD_REVISION}, {@link Defect#ACK_IGNORES_STORED},
   * {@link Defect#QUERY_NO_REFILL}. Composition roots use the constructors without it.
   */
  public ReplicatedApi(
      MetadataStore metadata, DataNodes nodes, HybridClock clock, RequestLimits limits, String revision,
      Supplier<WriteConsistency> consistency, int repairQueueSize, ReplicaCallLimits fanOut,
      DefectSwitches defects) {
    this(NodeRuntime.system(), metadata, nodes, clock, limits, revision, consistency, repairQueueSize, fanOut,
        defects);
  }

  /** As above, on the liaison's runtime. */
  public ReplicatedApi(NodeRuntime runtime,
      MetadataStore metadata, DataNodes nodes, HybridClock clock, RequestLimits limits, String revision,
      Supplier<WriteConsistency> consistency, int repairQueueSize, ReplicaCallLimits fanOut,
      DefectSwitches defects) {
    SchemaLookup lookup = new SchemaLookup(metadata);
    MetadataValidator metaValidator = new MetadataValidator(limits.maxTagsPerProperty());
    PropertyRequestValidator validator = new PropertyRequestValidator(limits.maxTagsPerProperty());
    this.calls = new ReplicaCalls(runtime, nodes, fanOut);
    this.repairs = new ReadRepairQueue(runtime, nodes, repairQueueSize);
    ReplicatedWrites writes = new ReplicatedWrites(
        lookup, validator, calls, clock, limits.maxPropertyBytes(), ConsistencyHeader.currentOr(consistency),
        defects);
    ReplicatedQueries queries = new ReplicatedQueries(lookup, calls, repairs, limits, defects);
    PropertyGrpcService properties = new PropertyGrpcService(writes::apply, writes::delete, queries::query);
    BindableService withConsistencyHeader =
        () -> io.grpc.ServerInterceptors.intercept(properties, new ConsistencyHeader());
    this.services = List.of(
        withConsistencyHeader,
        new GroupRegistryGrpcService(metadata, metaValidator,
            g -> nodes.placement().requireCapacity(g.getMetadata().getName(), g.getResourceOpts().getReplicas() + 1),
            group -> { }, writes::deleteAllOfName),
        new SchemaRegistryGrpcService(metadata, metaValidator, lookup, writes::deleteAllOfName),
        new ApiVersionGrpcService("0.9", revision));
  }

  public List<BindableService> services() {
    return services;
  }

  /**
   * Read repairs queued, written, dropped (queue full), failed (error or refused) and superseded
   * (the node already held something newer) since start.
   */
  public long[] readRepairCounts() {
    return new long[] {repairs.enqueued(), repairs.repaired(), repairs.dropped(), repairs.failed(),
        repairs.superseded()};
  }

  /** Calls to data nodes running or queued now. */
  public int replicaCallsPending() {
    return calls.pending();
  }

  /** Requests refused RESOURCE_EXHAUSTED because their calls to data nodes did not fit, since start. */
  public long replicaCallsRefused() {
    return calls.refused();
  }

  /** Calls to data nodes not sent because they waited in the queue past their deadline, since start. */
  public long replicaCallsExpired() {
    return calls.expired();
  }

  /** Batched Writes and Reads sent to data nodes, and the callers they carried, since start. */
  public long[] replicaBatchCounts() {
    return new long[] {calls.batchCalls(), calls.batchCallers()};
  }

  @Override
  public void close() {
    repairs.close();
    calls.close();
  }
}
