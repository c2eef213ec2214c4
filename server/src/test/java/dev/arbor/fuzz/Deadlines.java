package dev.arbor.fuzz;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import java.util.concurrent.TimeUnit;

/** A fresh deadline on every call, so a server that never answers shows up as DEADLINE_EXCEEDED. */
final class Deadlines implements ClientInterceptor {
  static final Deadlines PER_CALL = new Deadlines();
  static final long SECONDS = 10;

  @Override
  public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
    return next.newCall(method, options.withDeadlineAfter(SECONDS, TimeUnit.SECONDS));
  }
}
