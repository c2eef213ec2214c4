package dev.arbor.metadata;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * Cluster membership: the nodes (data nodes and liaisons, told apart by role) registered right now. A node registers itself under a TTL
 * (etcd: a lease it keeps alive) and disappears when it stops or stops renewing.
 */
public interface NodeRegistry extends AutoCloseable {
  /**
   * Registers a node of this process under its id, only if no other registration holds that id
   * (otherwise {@code FailedPreconditionException} naming the holder's address).
   */
  void register(RegisteredNode node, Duration ttl);

  /** The nodes registered now, by id. */
  List<RegisteredNode> nodes();

  /**
   * The node registered now under {@code id}. Served from the registry's local view (no round
   * trip), so it may run on every call a node receives.
   */
  default java.util.Optional<RegisteredNode> node(String id) {
    return nodes().stream().filter(n -> n.id().equals(id)).findFirst();
  }

  /**
   * Why this process cannot rely on the registry right now (its store unreachable, its own
   * registration lost and not yet renewed); empty when fine. Read by the health service, so it
   * answers from local state, without a round trip.
   */
  default List<String> readinessProblems() {
    return List.of();
  }

  /** Calls {@code listener} on every join, update and leave. */
  void addListener(Consumer<NodeEvent> listener);

  /** Withdraws this process's registrations. */
  @Override
  void close();
}
