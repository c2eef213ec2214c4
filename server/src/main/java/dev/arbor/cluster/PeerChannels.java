package dev.arbor.cluster;

import io.grpc.ManagedChannel;
import dev.arbor.transport.ChannelFactory;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/** gRPC channels to other nodes, one per address, kept for reuse and closed together. */
public final class PeerChannels implements AutoCloseable {
  private final ChannelFactory factory;
  private final int maxMessageBytes;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /** Plaintext channels (tests that run peers in one JVM). */
  public PeerChannels(int maxMessageBytes) {
    this(ChannelFactory.plaintext(), maxMessageBytes);
  }

  public PeerChannels(ChannelFactory factory, int maxMessageBytes) {
    this.factory = factory;
    this.maxMessageBytes = maxMessageBytes;
  }

  public ManagedChannel channel(String address) {
    if (closed) {
      throw new IllegalStateException("peer channels are closed");
    }
    return channels.computeIfAbsent(address, a -> factory.open(a, maxMessageBytes));
  }

  @Override
  public void close() {
    closed = true;
    channels.values().forEach(ManagedChannel::shutdownNow);
    for (ManagedChannel c : channels.values()) {
      try {
        c.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
