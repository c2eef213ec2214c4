package dev.arbor.repair.gossip;

import dev.arbor.api.repair.v1.TraceContext;
import dev.arbor.repair.sync.SessionFigures;
import io.grpc.Deadline;

/**
 * Runs the two-node repair of one hop with {@code peer} (this node the client). Production runs
 * {@code repair.sync.RepairSessionClient} over gRPC; tests of the gossip protocol alone may
 * record calls instead.
 *
 * @throws dev.arbor.repair.sync.SyncFailedException on failure
 */
@FunctionalInterface
public interface HopRunner {
  SessionFigures sync(String peerId, String peerAddress, String group, int shard, TraceContext trace,
      Deadline deadline);
}
