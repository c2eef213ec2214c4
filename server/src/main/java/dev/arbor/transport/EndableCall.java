package dev.arbor.transport;

import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.Status;

/**
 * A server call another thread may end (a node shutting down, a member leaving): the handler's
 * sends and the ending close are serialized, and whatever the handler sends after the end is
 * dropped. Ending with a non-OK status tells the call's listener it was cancelled, which ends
 * the handler's work; ending or closing twice is harmless.
 */
public final class EndableCall<Q, R> extends SimpleForwardingServerCall<Q, R> {
  private boolean ended;

  public EndableCall(ServerCall<Q, R> call) {
    super(call);
  }

  /**
   * Closes the call with {@code status} unless it is closed already.
   *
   * @return whether this closed it
   */
  public synchronized boolean end(Status status) {
    if (ended) {
      return false;
    }
    close(status, new Metadata());
    return true;
  }

  @Override
  public synchronized void sendHeaders(Metadata headers) {
    if (!ended) {
      super.sendHeaders(headers);
    }
  }

  @Override
  public synchronized void sendMessage(R message) {
    if (!ended) {
      super.sendMessage(message);
    }
  }

  @Override
  public synchronized void close(Status status, Metadata trailers) {
    if (!ended) {
      ended = true;
      super.close(status, trailers);
    }
  }
}
