package dev.arbor.repair.sync;

import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SessionResponse;
import dev.arbor.runtime.Cancellable;
import dev.arbor.runtime.Scheduler;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * What a node lets peers open: at most {@code maxSessions} repair sessions served at once (one
 * more is answered RESOURCE_EXHAUSTED, the peer's round moves on), and a session where nothing
 * moved either way for {@code idleTimeout} is ended, so a stalled or vanished peer cannot hold a
 * slot, a tree and a snapshot forever. The timeout must exceed how long a session may wait for
 * its tree before answering.
 */
public final class SessionGate {
  private final Semaphore slots;
  private final int maxSessions;
  private final Duration idleTimeout;
  private final Scheduler timers;
  private final AtomicLong refused = new AtomicLong();
  private final AtomicLong idled = new AtomicLong();

  public SessionGate(int maxSessions, Duration idleTimeout, Scheduler timers) {
    if (maxSessions < 1) {
      throw new IllegalArgumentException("--repair-max-sessions must be >= 1");
    }
    this.slots = new Semaphore(maxSessions);
    this.maxSessions = maxSessions;
    this.idleTimeout = idleTimeout;
    this.timers = timers;
  }

  /** Sessions refused because {@code maxSessions} were running. */
  public long refused() {
    return refused.get();
  }

  /** Sessions ended because their client went quiet. */
  public long idled() {
    return idled.get();
  }

  /** Sessions being served now. */
  public int open() {
    return maxSessions - slots.availablePermits();
  }

  /**
   * Opens a session answering on {@code responses}, built by {@code session} over a guarded
   * response stream; or refuses it when the node is full.
   */
  public StreamObserver<SessionRequest> open(StreamObserver<SessionResponse> responses,
      Function<StreamObserver<SessionResponse>, StreamObserver<SessionRequest>> session) {
    if (!slots.tryAcquire()) {
      refused.incrementAndGet();
      responses.onError(Status.RESOURCE_EXHAUSTED.withDescription(maxSessions
          + " repair sessions are running on this node (--repair-max-sessions); try another peer or later")
          .asRuntimeException());
      return new StreamObserver<>() {
        @Override
        public void onNext(SessionRequest value) {}

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {}
      };
    }
    Guarded guarded = new Guarded(responses);
    StreamObserver<SessionRequest> inner = session.apply(guarded);
    guarded.touch();
    return new StreamObserver<>() {
      @Override
      public void onNext(SessionRequest value) {
        if (guarded.isClosed()) {
          return;
        }
        guarded.touch();
        inner.onNext(value);
      }

      @Override
      public void onError(Throwable t) {
        try {
          inner.onError(t);
        } finally {
          guarded.release();
        }
      }

      @Override
      public void onCompleted() {
        if (guarded.isClosed()) {
          return;
        }
        inner.onCompleted();
      }
    };
  }

  /** The response stream, serialized, closed once, releasing the slot and the idle timer when it ends. */
  private final class Guarded implements StreamObserver<SessionResponse> {
    private final StreamObserver<SessionResponse> out;
    private boolean closed;
    private boolean released;
    private Cancellable idle;

    Guarded(StreamObserver<SessionResponse> out) {
      this.out = out;
    }

    synchronized boolean isClosed() {
      return closed;
    }

    synchronized void touch() {
      if (closed) {
        return;
      }
      if (idle != null) {
        idle.cancel();
      }
      idle = timers.schedule(this::expire, idleTimeout);
    }

    private synchronized void expire() {
      if (closed) {
        return;
      }
      idled.incrementAndGet();
      onError(Status.DEADLINE_EXCEEDED.withDescription("repair session idle for " + idleTimeout
          + " (--repair-session-idle-timeout): no message either way").asRuntimeException());
    }

    @Override
    public synchronized void onNext(SessionResponse value) {
      if (!closed) {
        out.onNext(value);
        touch(); // progress either way keeps a session alive
      }
    }

    @Override
    public synchronized void onError(Throwable t) {
      // The slot is free before the peer learns the session ended, so a peer that opens a new
      // session at once is not refused for the slot its old one still held.
      boolean tell = !closed;
      release();
      if (tell) {
        out.onError(t);
      }
    }

    @Override
    public synchronized void onCompleted() {
      boolean tell = !closed;
      release();
      if (tell) {
        out.onCompleted();
      }
    }

    synchronized void release() {
      closed = true;
      if (idle != null) {
        idle.cancel();
      }
      if (!released) {
        released = true;
        slots.release();
      }
    }
  }
}
