package dev.arbor.cluster;

import dev.arbor.transport.ChannelFactory;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registered data nodes as the liaison sees them: the current {@link Placement} and one
 * client per node. {@link #update} is called with every membership change; clients of nodes that
 * left are closed, new nodes get a client. A node that is registered but down keeps its place
 * (and its client): calls to it fail fast and repair heals what it missed.
 */
public final class DataNodes implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(DataNodes.class);

  private final Duration deadline;
  private final ChannelFactory channels;
  private final Map<NodeId, DataNodeClient> clients = new HashMap<>();
  private volatile Placement placement = Placement.of(List.of());

  /** @param deadline the deadline of every call to a data node */
  public DataNodes(Duration deadline) {
    this(deadline, ChannelFactory.plaintext());
  }

  /** As above, the clients' channels built by {@code channels}. */
  public DataNodes(Duration deadline, ChannelFactory channels) {
    this.deadline = deadline;
    this.channels = channels;
  }

  public synchronized void update(Collection<DataNode> registered) {
    Placement next = Placement.of(registered);
    Map<NodeId, DataNode> byId = new HashMap<>();
    next.nodes().forEach(n -> byId.put(n.id(), n));
    clients.entrySet().removeIf(e -> {
      DataNode now = byId.get(e.getKey());
      if (now == null || !now.grpcAddress().equals(e.getValue().node().grpcAddress())) {
        e.getValue().close();
        return true;
      }
      return false;
    });
    for (DataNode n : next.nodes()) {
      clients.computeIfAbsent(n.id(), id -> new DataNodeClient(n, deadline, channels));
    }
    placement = next;
    LOG.info("data nodes: {}", next.nodes());
  }

  /** The deadline of a call to a data node made (or queued) now. */
  public io.grpc.Deadline callDeadline() {
    return io.grpc.Deadline.after(deadline.toNanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /** How long a call to a data node may take, counted from when it is made or queued. */
  public Duration callTimeout() {
    return deadline;
  }

  public Placement placement() {
    return placement;
  }

  /** The client of a registered node. */
  public synchronized DataNodeClient client(NodeId id) {
    DataNodeClient c = clients.get(id);
    if (c == null) {
      throw new IllegalStateException("data node " + id + " is not registered");
    }
    return c;
  }

  /** The replicas of (group, shard) in placement order, capped at the registered nodes. */
  public List<DataNode> replicas(String group, int shard, int copies) {
    return placement.placeCapped(group, shard, copies);
  }

  @Override
  public synchronized void close() {
    clients.values().forEach(DataNodeClient::close);
    clients.clear();
  }
}
