package dev.arbor.transport;

import com.google.protobuf.MessageLite;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Caps the reply bytes a server holds for clients that do not read them. A reply the transport
 * cannot pass on yet (the client's flow-control window is full) waits in the server's buffers;
 * without a cap, a thousand clients that ask for a large query and never read it hold a thousand
 * replies, and the server runs out of (direct) memory. Each message a call sends takes its
 * encoded size from one shared budget until the transport has passed it on (the call is ready
 * again; for a unary reply, which leaves with the call's close: until the call ends); a message that does not fit ends its call RESOURCE_EXHAUSTED instead of being
 * queued. A message larger than the whole budget is still sent when nothing else is waiting, so a
 * large reply is never refused on an idle server; a message under {@link #ALWAYS_SENT_BELOW} is
 * never refused.
 */
public final class ReplyBudget implements ServerInterceptor {
  /**
   * Smaller replies are counted but never refused: a write's answer is one of them, so a write
   * is never done and then reported refused, and --max-concurrent-calls bounds their sum.
   */
  public static final int ALWAYS_SENT_BELOW = 64 * 1024;

  private final long capacity;
  private final AtomicLong queued = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();

  public ReplyBudget(long capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("reply budget must be >= 1 byte, got " + capacity);
    }
    this.capacity = capacity;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    BudgetedCall<Q, R> budgeted = new BudgetedCall<>(call);
    ServerCall.Listener<Q> delegate = next.startCall(budgeted, headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
      @Override
      public void onReady() {
        budgeted.releaseIfReady();
        super.onReady();
      }

      @Override
      public void onComplete() {
        try {
          super.onComplete();
        } finally {
          budgeted.releaseAll();
        }
      }

      @Override
      public void onCancel() {
        try {
          super.onCancel();
        } finally {
          budgeted.releaseAll();
        }
      }
    };
  }

  /** Reply bytes waiting for their clients now. */
  public long queuedBytes() {
    return queued.get();
  }

  /** Calls ended RESOURCE_EXHAUSTED because their reply did not fit. */
  public long refused() {
    return refused.get();
  }

  public long capacity() {
    return capacity;
  }

  private boolean take(long bytes) {
    while (true) {
      long now = queued.get();
      if (bytes >= ALWAYS_SENT_BELOW && now > 0 && now + bytes > capacity) {
        return false;
      }
      if (queued.compareAndSet(now, now + bytes)) {
        return true;
      }
    }
  }

  /** One call's share of the budget: what it sent that the transport has not taken yet. */
  private final class BudgetedCall<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
    private long held;
    private boolean refusedHere;

    BudgetedCall(ServerCall<Q, R> call) {
      super(call);
    }

    @Override
    public void sendMessage(R message) {
      long size = message instanceof MessageLite m ? m.getSerializedSize() : 0;
      // What this call sent before has left if the transport is ready now (a streaming call
      // flushes each message; a unary reply leaves with the close, so it is held until the end).
      releaseIfReady();
      synchronized (this) {
        if (refusedHere) {
          return; // already ended: what the handler still sends goes nowhere
        }
        if (!take(size)) {
          refusedHere = true;
          refused.incrementAndGet();
          super.close(Status.RESOURCE_EXHAUSTED.withDescription("server busy: " + queued.get()
              + " bytes of replies are waiting for clients to read them (--max-queued-reply-bytes "
              + capacity + "); read replies promptly, retry with backoff"), new Metadata());
          return;
        }
        held += size;
      }
      super.sendMessage(message);
    }

    @Override
    public void close(Status status, Metadata trailers) {
      synchronized (this) {
        if (refusedHere) {
          return; // closed RESOURCE_EXHAUSTED already
        }
      }
      super.close(status, trailers);
    }

    /** The transport took everything sent so far: the bytes no longer wait here. */
    void releaseIfReady() {
      if (isReady()) {
        releaseAll();
      }
    }

    synchronized void releaseAll() {
      if (held > 0) {
        queued.addAndGet(-held);
        held = 0;
      }
    }
  }
}
