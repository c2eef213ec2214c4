package dev.arbor.repair.handoff;

import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.cluster.DataNode;
import java.util.List;

/** Sends records to one owner through its internal write API. */
@FunctionalInterface
public interface OwnerWriter {
  /**
   * @return the owner's outcome for each record, in order
   * @throws RuntimeException when the owner cannot be reached or fails the call
   */
  List<WriteOutcome> write(DataNode owner, List<StoredProperty> records);
}
