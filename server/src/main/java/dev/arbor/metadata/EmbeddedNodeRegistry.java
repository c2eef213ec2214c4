package dev.arbor.metadata;

import dev.arbor.errors.FailedPreconditionException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Membership inside one process (the local dev cluster): registrations live as long as the
 * process, so the TTL is not used; a node leaves by {@link #deregister}.
 */
public final class EmbeddedNodeRegistry implements NodeRegistry {
  private final Map<String, RegisteredNode> nodes = new TreeMap<>();
  private final List<Consumer<NodeEvent>> listeners = new CopyOnWriteArrayList<>();

  /**
   * Registers a node whose id is free; two nodes of one id would silently share it, so the second
   * is refused ({@link FailedPreconditionException} naming the holder's address).
   */
  @Override
  public synchronized void register(RegisteredNode node, Duration ttl) {
    RegisteredNode holder = nodes.get(node.id());
    if (holder != null) {
      throw new FailedPreconditionException(
          "node id " + node.id() + " is already registered by the node at " + holder.grpcAddress()
              + "; every node needs its own --node-id");
    }
    nodes.put(node.id(), node);
    publish(new NodeEvent(NodeEvent.Type.JOINED, node));
  }

  /**
   * Changes a registered node's registration in place (its roles, its address), as etcd reports a
   * registration key written again: listeners see UPDATED.
   *
   * @throws FailedPreconditionException the node is not registered
   */
  public synchronized void update(RegisteredNode node) {
    if (nodes.replace(node.id(), node) == null) {
      throw new FailedPreconditionException("node id " + node.id() + " is not registered");
    }
    publish(new NodeEvent(NodeEvent.Type.UPDATED, node));
  }

  /** Removes a node (it stopped). */
  public synchronized void deregister(String id) {
    RegisteredNode old = nodes.remove(id);
    if (old != null) {
      publish(new NodeEvent(NodeEvent.Type.LEFT, old));
    }
  }

  @Override
  public synchronized List<RegisteredNode> nodes() {
    return List.copyOf(nodes.values());
  }

  @Override
  public synchronized java.util.Optional<RegisteredNode> node(String id) {
    return java.util.Optional.ofNullable(nodes.get(id));
  }

  @Override
  public void addListener(Consumer<NodeEvent> listener) {
    listeners.add(listener);
  }

  private void publish(NodeEvent e) {
    listeners.forEach(l -> l.accept(e));
  }

  @Override
  public synchronized void close() {
    nodes.clear();
  }
}
