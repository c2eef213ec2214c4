package dev.arbor.fuzz;

import dev.arbor.api.repair.v1.RepairServiceGrpc;
import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SessionResponse;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One repair session stream driven by a fuzz script. The requests are pipelined (the server
 * answers in order either way, and a round trip per request would cost most of the budget), then
 * the stream ends the way the script says.
 */
final class SessionCall {
  /** How the client ends its side. */
  enum End {
    /** Half-close after the last request (a well-behaved client; the script may or may not hold a Finish). */
    HALF_CLOSE,
    /** Cancel right after sending: a client that gave up or crashed. */
    CANCEL,
    /** Never read a response and never close: a client that stopped reading or vanished. */
    ABANDON
  }

  /** How the stream ended: the status (OK after a normal end) and the responses read before it. */
  record Result(Status status, List<SessionResponse> responses) {}

  private final CompletableFuture<Result> result = new CompletableFuture<>();
  private final List<SessionResponse> responses = new CopyOnWriteArrayList<>();
  private ClientCallStreamObserver<SessionRequest> requests;

  private SessionCall() {}

  static SessionCall start(Channel channel, List<SessionRequest> script, End end) {
    SessionCall c = new SessionCall();
    RepairServiceGrpc.newStub(channel).repair(new ClientResponseObserver<SessionRequest, SessionResponse>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<SessionRequest> stream) {
        c.requests = stream;
        if (end == End.ABANDON) {
          stream.disableAutoRequestWithInitial(0);
        }
      }

      @Override
      public void onNext(SessionResponse r) {
        c.responses.add(r);
      }

      @Override
      public void onError(Throwable t) {
        c.result.complete(new Result(Status.fromThrowable(t), List.copyOf(c.responses)));
      }

      @Override
      public void onCompleted() {
        c.result.complete(new Result(Status.OK, List.copyOf(c.responses)));
      }
    });
    for (SessionRequest r : script) {
      c.requests.onNext(r);
    }
    switch (end) {
      case HALF_CLOSE -> c.requests.onCompleted();
      case CANCEL -> c.cancel();
      case ABANDON -> { }
    }
    return c;
  }

  CompletableFuture<Result> result() {
    return result;
  }

  void cancel() {
    requests.cancel("fuzz client gave up", null);
  }
}
