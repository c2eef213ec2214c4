package dev.arbor.repair.sync;

import dev.arbor.api.repair.v1.RepairServiceGrpc;
import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SessionResponse;
import io.grpc.Channel;
import io.grpc.Deadline;
import io.grpc.stub.StreamObserver;

/**
 * How the client end of a repair session reaches its peer: opens one session stream. Callbacks,
 * not blocking calls — {@link #open} returns at once, requests go out through the returned
 * observer and the peer's responses (then its end, or the failure: a deadline, a dropped
 * connection) arrive on {@code replies} — so a simulated network can carry sessions in place of
 * gRPC ({@link #grpc}). {@link Conversation} adds the request/response pacing on top.
 */
@FunctionalInterface
public interface SessionStreams {
  /** Starts a session that must end by {@code deadline}; the peer's messages go to {@code replies}. */
  StreamObserver<SessionRequest> open(Deadline deadline, StreamObserver<SessionResponse> replies);

  /** Sessions over gRPC's {@code RepairService/Repair} stream on {@code channel} (an async stub). */
  static SessionStreams grpc(Channel channel) {
    return (deadline, replies) -> RepairServiceGrpc.newStub(channel).withDeadline(deadline).repair(replies);
  }
}
