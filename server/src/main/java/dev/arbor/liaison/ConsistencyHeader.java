package dev.arbor.liaison;

import dev.arbor.cluster.WriteConsistency;
import dev.arbor.errors.InvalidArgumentException;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.function.Supplier;

/**
 * Per-request write consistency: a call may carry the header {@value #NAME} ({@code one},
 * {@code quorum} or {@code all}); without it the liaison's default applies. A bad value is
 * rejected with INVALID_ARGUMENT naming the header.
 */
public final class ConsistencyHeader implements ServerInterceptor {
  public static final String NAME = "arbor-write-consistency";
  private static final Metadata.Key<String> KEY = Metadata.Key.of(NAME, Metadata.ASCII_STRING_MARSHALLER);
  private static final Context.Key<WriteConsistency> CURRENT = Context.key(NAME);

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String value = headers.get(KEY);
    if (value == null) {
      return next.startCall(call, headers);
    }
    WriteConsistency level;
    try {
      level = WriteConsistency.parse(value);
    } catch (InvalidArgumentException e) {
      call.close(Status.INVALID_ARGUMENT.withDescription("header " + NAME + ": " + e.getMessage()), new Metadata());
      return new ServerCall.Listener<>() { };
    }
    return Contexts.interceptCall(Context.current().withValue(CURRENT, level), call, headers, next);
  }

  /** The current request's level, or {@code fallback}'s when the request did not choose. */
  public static Supplier<WriteConsistency> currentOr(Supplier<WriteConsistency> fallback) {
    return () -> {
      WriteConsistency c = CURRENT.get();
      return c != null ? c : fallback.get();
    };
  }
}
