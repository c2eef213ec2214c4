package dev.arbor.metadata;

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

  @Override
  public synchronized void register(RegisteredNode node, Duration ttl) {
    RegisteredNode old = nodes.put(node.id(), node);
    publish(new NodeEvent(old == null ? NodeEvent.Type.JOINED : NodeEvent.Type.UPDATED, node));
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
