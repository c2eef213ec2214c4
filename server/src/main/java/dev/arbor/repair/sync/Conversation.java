package dev.arbor.repair.sync;

import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SessionResponse;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The client end of a session stream as request/response calls: {@link #call} sends one request
 * and waits (bounded) for its one response. Failures surface as {@link SyncFailedException}
 * naming the peer. The stream itself is asynchronous ({@link SessionStreams}); the waiting is
 * here, on the session's own thread, because the session client is written as a sequence of
 * exchanges (a simulation runs it on a thread it controls, or makes this class the seam).
 */
final class Conversation implements AutoCloseable {
  private static final Object END = new Object();

  private final String peer;
  private final Duration replyTimeout;
  private final LinkedBlockingQueue<Object> inbox = new LinkedBlockingQueue<>();
  private final StreamObserver<SessionRequest> requests;
  private boolean closed;
  private long bytesSent;
  private long bytesReceived;

  Conversation(SessionStreams streams, String peer, Deadline deadline, Duration replyTimeout) {
    this.peer = peer;
    this.replyTimeout = replyTimeout;
    this.requests = streams.open(deadline, new StreamObserver<>() {
      @Override
      public void onNext(SessionResponse r) {
        inbox.add(r);
      }

      @Override
      public void onError(Throwable t) {
        inbox.add(t);
      }

      @Override
      public void onCompleted() {
        inbox.add(END);
      }
    });
  }

  long bytesSent() {
    return bytesSent;
  }

  long bytesReceived() {
    return bytesReceived;
  }

  SessionResponse call(SessionRequest req) {
    send(req);
    return receive();
  }

  /**
   * Sends a request without waiting; its response is the next {@link #receive} after the
   * responses of requests sent before it (the server answers in order).
   */
  void send(SessionRequest req) {
    bytesSent += req.getSerializedSize();
    requests.onNext(req);
  }

  SessionResponse receive() {
    Object o = take();
    if (o instanceof SessionResponse r) {
      bytesReceived += r.getSerializedSize();
      return r;
    }
    if (o instanceof Throwable t) {
      Status s = Status.fromThrowable(t);
      throw new SyncFailedException("peer " + peer + ": " + s.getCode() + (s.getDescription() == null ? ""
          : ": " + s.getDescription()), false, t);
    }
    throw new SyncFailedException("peer " + peer + " ended the session early", false, null);
  }

  /** Half-closes and waits (bounded) for the server to end the stream. */
  void finish() {
    requests.onCompleted();
    closed = true;
    Object o = take();
    if (o instanceof Throwable t) {
      throw new SyncFailedException("peer " + peer + " failed at the end of the session: "
          + Status.fromThrowable(t), false, t);
    }
    if (o != END) {
      throw new SyncFailedException("peer " + peer + " sent more than asked at the end of the session", false, null);
    }
  }

  private Object take() {
    try {
      Object o = inbox.poll(replyTimeout.toMillis(), TimeUnit.MILLISECONDS);
      if (o == null) {
        throw new SyncFailedException("peer " + peer + " did not answer within " + replyTimeout, false, null);
      }
      return o;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SyncFailedException("interrupted while waiting for peer " + peer, true, e);
    }
  }

  /** Cancels the stream unless it ended normally. */
  @Override
  public void close() {
    if (!closed) {
      closed = true;
      requests.onError(Status.CANCELLED.withDescription("repair session abandoned by the client").asRuntimeException());
    }
  }
}
