package dev.arbor.http;

import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerMethodDefinition;
import io.grpc.Status;
import java.net.SocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One unary gRPC call made inside the JVM: the request goes through a method's server handler —
 * the interceptors the gRPC port runs, then the service — exactly as a call from the network
 * would, and the reply or status completes the future {@link #start} returns. The transport's part (request
 * flow control, readiness) is trivial here: the message is already in memory, and the reply is
 * handed over whole.
 */
final class InProcessCall<Q, R> extends ServerCall<Q, R> {
  /** The call's end: its reply (null unless OK) and status. */
  record Outcome<R>(R reply, Status status) {}

  private final MethodDescriptor<Q, R> method;
  private final Attributes attributes;
  private final CompletableFuture<Outcome<R>> result = new CompletableFuture<>();
  private final Context.CancellableContext context = Context.current().withCancellation();
  private R reply;

  private InProcessCall(MethodDescriptor<Q, R> method, SocketAddress remote) {
    this.method = method;
    Attributes.Builder a = Attributes.newBuilder();
    if (remote != null) {
      a.set(Grpc.TRANSPORT_ATTR_REMOTE_ADDR, remote);
    }
    this.attributes = a.build();
  }

  /**
   * Starts {@code definition} with {@code request} and {@code headers}; the outcome completes
   * when the service (or an interceptor) closes the call, possibly on another thread.
   * {@code after} runs the listener's end-of-call callback (interceptors release what they hold
   * there) once the call has closed.
   */
  static <Q, R> CompletableFuture<Outcome<R>> start(ServerMethodDefinition<Q, R> definition, Q request,
      Metadata headers, SocketAddress remote, Executor after) {
    InProcessCall<Q, R> call = new InProcessCall<>(definition.getMethodDescriptor(), remote);
    call.context.run(() -> {
      ServerCall.Listener<Q> listener;
      try {
        listener = definition.getServerCallHandler().startCall(call, headers);
      } catch (RuntimeException e) {
        call.fail(e);
        return;
      }
      // The listener's end-of-call callback runs once, after both the call closed and
      // onHalfClose returned (a service may close the call inside it): a listener's callbacks
      // never overlap, as on a real transport.
      AtomicInteger pending = new AtomicInteger(2);
      Runnable end = () -> {
        if (pending.decrementAndGet() != 0) {
          return;
        }
        try {
          // A call the server side closed, with any status, completed (as a transport reports it).
          listener.onComplete();
        } finally {
          call.context.cancel(null);
        }
      };
      call.result.whenCompleteAsync((o, e) -> end.run(), after);
      try {
        listener.onReady();
        listener.onMessage(request);
        listener.onHalfClose();
      } catch (RuntimeException e) {
        call.fail(e);
      } finally {
        end.run();
      }
    });
    return call.result;
  }

  private void fail(RuntimeException e) {
    // What a server does with a handler that throws: the caller learns of a failure, no more.
    close(Status.INTERNAL.withDescription("the call failed: " + e.getClass().getSimpleName()).withCause(e),
        new Metadata());
  }

  @Override
  public void request(int numMessages) {
    // The one request message is delivered whatever the handler asks for.
  }

  @Override
  public void sendHeaders(Metadata headers) {
    // Response headers have no HTTP counterpart here.
  }

  @Override
  public synchronized void sendMessage(R message) {
    reply = message;
  }

  @Override
  public void close(Status status, Metadata trailers) {
    R r;
    synchronized (this) {
      r = reply;
    }
    result.complete(new Outcome<>(status.isOk() ? r : null, status));
  }

  @Override
  public boolean isReady() {
    return true;
  }

  @Override
  public boolean isCancelled() {
    return false;
  }

  @Override
  public Attributes getAttributes() {
    return attributes;
  }

  @Override
  public MethodDescriptor<Q, R> getMethodDescriptor() {
    return method;
  }
}
