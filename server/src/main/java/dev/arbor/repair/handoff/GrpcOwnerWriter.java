package dev.arbor.repair.handoff;

import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.DataNodeClient;
import dev.arbor.cluster.WriteReply;
import dev.arbor.transport.ChannelFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/** {@link OwnerWriter} over {@code DataNodeService/Write}, one client per owner address. */
public final class GrpcOwnerWriter implements OwnerWriter, AutoCloseable {
  private final Duration deadline;
  private final ChannelFactory channels;
  private final Map<DataNode, DataNodeClient> clients = new ConcurrentHashMap<>();

  public GrpcOwnerWriter(Duration deadline, ChannelFactory channels) {
    this.deadline = deadline;
    this.channels = channels;
  }

  @Override
  public CompletableFuture<List<WriteOutcome>> write(DataNode owner, List<StoredProperty> records) {
    DataNodeClient c = clients.computeIfAbsent(owner, n -> new DataNodeClient(n, deadline, channels));
    return c.write(records, false, c.deadline()).thenApply(WriteReply::outcomes);
  }

  @Override
  public void close() {
    clients.values().forEach(DataNodeClient::close);
    clients.clear();
  }
}
