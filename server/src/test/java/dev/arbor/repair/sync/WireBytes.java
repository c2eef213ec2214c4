package dev.arbor.repair.sync;

import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the bytes of the streams a gRPC server serves as gRPC itself reports them: every
 * message's wire size in both directions plus its 5-byte length prefix (HTTP/2 frame headers
 * and the call's headers are left out: they do not grow with the session's content).
 */
final class WireBytes extends ServerStreamTracer.Factory {
  private static final int MESSAGE_PREFIX = 5;
  private final AtomicLong in = new AtomicLong();
  private final AtomicLong out = new AtomicLong();

  @Override
  public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
    return new ServerStreamTracer() {
      @Override
      public void inboundWireSize(long bytes) {
        in.addAndGet(bytes);
      }

      @Override
      public void inboundMessage(int seqNo) {
        in.addAndGet(MESSAGE_PREFIX);
      }

      @Override
      public void outboundWireSize(long bytes) {
        out.addAndGet(bytes);
      }

      @Override
      public void outboundMessage(int seqNo) {
        out.addAndGet(MESSAGE_PREFIX);
      }
    };
  }

  /** Bytes in both directions since the last call (and resets). */
  long takeTotal() {
    return in.getAndSet(0) + out.getAndSet(0);
  }
}
