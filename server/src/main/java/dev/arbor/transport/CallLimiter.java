package dev.arbor.transport;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Caps the calls a server handles at once. Over the cap a call is answered RESOURCE_EXHAUSTED
 * immediately: a client learns to back off, and the server never piles up work (or threads) it
 * cannot finish before the callers' deadlines.
 */
public final class CallLimiter implements ServerInterceptor {
  private final Slots slots;

  public CallLimiter(int capacity) {
    this.slots = new Slots(capacity);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (!slots.tryTake(1)) {
      call.close(Status.RESOURCE_EXHAUSTED.withDescription("server busy: " + slots.capacity()
          + " calls are being handled (--max-concurrent-calls); retry with backoff"), new Metadata());
      return new ServerCall.Listener<>() {};
    }
    AtomicBoolean released = new AtomicBoolean();
    Runnable release = () -> {
      if (released.compareAndSet(false, true)) {
        slots.release(1);
      }
    };
    ServerCall.Listener<Q> delegate;
    try {
      delegate = next.startCall(call, headers);
    } catch (RuntimeException | Error e) {
      release.run();
      throw e;
    }
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          release.run();
        }
      }

      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          release.run();
        }
      }
    };
  }

  /** Calls being handled now. */
  public int inFlight() {
    return slots.inUse();
  }

  /** Calls refused since start. */
  public long refused() {
    return slots.refused();
  }
}
