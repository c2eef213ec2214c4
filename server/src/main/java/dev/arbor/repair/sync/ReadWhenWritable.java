package dev.arbor.repair.sync;

import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SessionResponse;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * gRPC flow control for a served session: requests are read only while answers can be written,
 * at most {@link #AHEAD} ahead. Every request costs an answer (a page of leaves or records of up to
 * 4 MiB), and gRPC buffers what a server writes without limit: a client that kept sending and
 * stopped reading would otherwise make this node hold every answer in memory. Now at most the
 * client's flow-control window and {@code AHEAD} answers are held; its further requests wait in its
 * own buffers, and the idle timeout ends the session. Reading a few ahead keeps a client that
 * pipelines its requests from paying a round trip through the transport per request.
 */
final class ReadWhenWritable implements StreamObserver<SessionRequest> {
  /** Requests read at most ahead of the answers the transport took. */
  static final int AHEAD = 4;

  private final ServerCallStreamObserver<SessionResponse> call;
  private final StreamObserver<SessionRequest> session;

  /** Requests to read once the stream is writable again. Only touched on the call's serialized executor. */
  private int owed;

  private ReadWhenWritable(ServerCallStreamObserver<SessionResponse> call, StreamObserver<SessionRequest> session) {
    this.call = call;
    this.session = session;
  }

  /** Wraps {@code session} (answering on {@code responses}); must run before the call handler returns. */
  static StreamObserver<SessionRequest> wrap(StreamObserver<SessionResponse> responses,
      java.util.function.Function<StreamObserver<SessionResponse>, StreamObserver<SessionRequest>> session) {
    if (!(responses instanceof ServerCallStreamObserver<SessionResponse> call)) {
      return session.apply(responses); // not a gRPC call (tests driving the server directly)
    }
    call.disableAutoRequest();
    ReadWhenWritable flow = new ReadWhenWritable(call, session.apply(responses));
    call.setOnReadyHandler(flow::onReady);
    call.request(AHEAD);
    return flow;
  }

  private void onReady() {
    if (owed > 0 && call.isReady()) {
      call.request(owed);
      owed = 0;
    }
  }

  @Override
  public void onNext(SessionRequest r) {
    session.onNext(r);
    if (call.isReady()) {
      call.request(1);
    } else {
      owed++;
    }
  }

  @Override
  public void onError(Throwable t) {
    session.onError(t);
  }

  @Override
  public void onCompleted() {
    session.onCompleted();
  }
}
