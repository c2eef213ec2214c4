package dev.arbor.testing;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Calls any method by name with raw bytes, for the tables that try each role against each RPC:
 * what is asserted is the status the server's checks answer, whatever the method's messages.
 */
public final class RawCalls {
  private RawCalls() {}

  /** Sends one empty message (a valid encoding of any request) and returns the call's status. */
  public static Status callWithEmptyRequest(Channel ch, String method, MethodDescriptor.MethodType type) throws Exception {
    CompletableFuture<Status> done = new CompletableFuture<>();
    ClientCall<byte[], byte[]> call = start(ch, method, type, done);
    call.sendMessage(new byte[0]);
    call.halfClose();
    return done.get(30, TimeUnit.SECONDS);
  }

  /**
   * Starts a call and sends nothing (a stream the caller keeps open); {@code closed} completes
   * with its status.
   */
  public static ClientCall<byte[], byte[]> start(Channel ch, String method, MethodDescriptor.MethodType type,
      CompletableFuture<Status> closed) {
    MethodDescriptor<byte[], byte[]> raw = MethodDescriptor.<byte[], byte[]>newBuilder()
        .setFullMethodName(method).setType(type).setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
    ClientCall<byte[], byte[]> call = ch.newCall(raw, CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS));
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, new Metadata());
    call.request(Integer.MAX_VALUE);
    return call;
  }

  /** Messages as the bytes they are. */
  public static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };
}
