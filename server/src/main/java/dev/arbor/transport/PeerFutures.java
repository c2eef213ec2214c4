package dev.arbor.transport;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.BiConsumer;

/**
 * Futures for calls to peers. Peer-facing interfaces return {@link CompletableFuture}s that never
 * block their caller, so one thread can drive many calls (and a simulated network can complete
 * them in whatever order it chooses); {@link #unary} adapts a gRPC async stub method to one. A
 * caller that does block, for now, goes through {@link #await}, which rethrows the failure the call
 * completed with, so it sees the same exception types as before the interfaces became asynchronous.
 */
public final class PeerFutures {
  private PeerFutures() {}

  /**
   * Starts a unary call through an async stub method ({@code stub::write}); the future completes
   * with the reply, or exceptionally with the {@link io.grpc.StatusRuntimeException} the call
   * failed with. Never blocks: the call's deadline belongs on the stub.
   */
  public static <Q, R> CompletableFuture<R> unary(BiConsumer<Q, StreamObserver<R>> method, Q request) {
    CompletableFuture<R> out = new CompletableFuture<>();
    try {
      method.accept(request, new StreamObserver<>() {
        @Override
        public void onNext(R value) {
          out.complete(value);
        }

        @Override
        public void onError(Throwable t) {
          out.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
          // A unary call ends with its one reply; one without it is a broken peer, not success.
          out.completeExceptionally(io.grpc.Status.INTERNAL.withDescription("the peer ended the call without a reply")
              .asRuntimeException());
        }
      });
    } catch (RuntimeException e) {
      out.completeExceptionally(e);
    }
    return out;
  }

  /**
   * Waits for {@code f} and returns its value, or rethrows the exception it completed with (a
   * {@link RuntimeException} or {@link Error} as it is; a checked one wrapped in a
   * {@link CompletionException}). Interrupted, it keeps the interrupt flag and throws
   * {@link CompletionException}.
   */
  public static <T> T await(CompletableFuture<T> f) {
    try {
      return f.get();
    } catch (ExecutionException e) {
      throw rethrowable(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CompletionException("interrupted while waiting for a peer", e);
    }
  }

  /** The failure a future completed with, unwrapped from the wrappers the future API adds. */
  public static Throwable cause(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  private static RuntimeException rethrowable(Throwable t) {
    Throwable c = cause(t);
    if (c instanceof RuntimeException r) {
      return r;
    }
    if (c instanceof Error e) {
      throw e;
    }
    return new CompletionException(c);
  }
}
