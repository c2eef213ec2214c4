package dev.arbor.repair.handoff;

import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.cluster.DataNode;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Sends records to one owner through its internal write API. Asynchronous: returns at once, so a
 * simulated network can stand in for gRPC ({@link GrpcOwnerWriter}) without touching the hand-off.
 */
@FunctionalInterface
public interface OwnerWriter {
  /**
   * @return completes with the owner's outcome for each record, in order, or exceptionally when
   *     the owner cannot be reached or fails the call
   */
  CompletableFuture<List<WriteOutcome>> write(DataNode owner, List<StoredProperty> records);
}
