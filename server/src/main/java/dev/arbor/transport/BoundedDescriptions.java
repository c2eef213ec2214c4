package dev.arbor.transport;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Caps the description of every status a server sends. Descriptions echo names from requests
 * (groups, entities, node ids), and one past the client's header-list limit (8 KiB in grpc-java,
 * percent-encoded) reaches the client as INTERNAL "http2 exception" instead of the status the
 * server meant. On every service, so no handler has to remember it.
 */
public final class BoundedDescriptions implements ServerInterceptor {
  /** Characters kept; even all 3-byte UTF-8, percent-encoded it stays under 8 KiB. */
  public static final int MAX_DESCRIPTION = 512;

  /** {@code message} cut to {@link #MAX_DESCRIPTION} characters, saying how long it was. */
  public static String bounded(String message) {
    if (message == null || message.length() <= MAX_DESCRIPTION) {
      return message;
    }
    return message.substring(0, MAX_DESCRIPTION) + "... (" + message.length() + " characters)";
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        String d = status.getDescription();
        super.close(d == null || d.length() <= MAX_DESCRIPTION ? status : status.withDescription(bounded(d)), trailers);
      }
    }, headers);
  }
}
