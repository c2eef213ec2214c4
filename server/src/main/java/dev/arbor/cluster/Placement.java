package dev.arbor.cluster;

import dev.arbor.errors.FailedPreconditionException;
import dev.arbor.property.ShardRouter;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the copies of a (group, shard) live: rendezvous (highest-random-weight) hashing over the
 * <em>registered</em> data nodes — never only the reachable ones (architecture.md decision 10).
 *
 * <p>{@code score(node, group, shard) = xxHash64(utf8(group + '/' + shard + '/' + nodeId))}, seed
 * 0, compared as an unsigned 64-bit number. The nodes sorted by score descending (ties by node id
 * ascending) give the placement order: the first {@code copies} of them hold the shard, replica 0
 * first. That order is also the gossip ring order used by repair. Liaison and repair must both
 * use this class so they agree; changing the function moves data (see {@code docs/placement.md}).
 *
 * <p>An instance is an immutable snapshot of one membership: input order does not matter and
 * duplicate registrations are removed. Which method to use:
 *
 * <ul>
 *   <li>{@link #requireCapacity} at group create/update: reject a group that needs more copies
 *       than there are registered data nodes.
 *   <li>{@link #place} when the group must get all its copies (repair, strict callers).
 *   <li>{@link #placeCapped} on the liaison's write/read path: when nodes left after the group
 *       was created it returns every node instead of failing; the liaison logs a warning once
 *       per membership change for each group where {@link #canPlace} is false.
 * </ul>
 */
public final class Placement {
  private static final Comparator<Scored> ORDER =
      (a, b) -> {
        int c = Long.compareUnsigned(b.score, a.score); // descending
        return c != 0 ? c : a.node.id().compareTo(b.node.id());
      };

  private final List<DataNode> nodes;

  private Placement(List<DataNode> nodes) {
    this.nodes = nodes;
  }

  /**
   * A snapshot of the registered data nodes. Equal registrations given twice count once; the same
   * id with two different addresses is an error (the membership is inconsistent).
   */
  public static Placement of(Collection<DataNode> registered) {
    Map<NodeId, DataNode> byId = new HashMap<>();
    for (DataNode n : registered) {
      DataNode prev = byId.putIfAbsent(n.id(), n);
      if (prev != null && !prev.equals(n)) {
        throw new IllegalArgumentException(
            "data node " + n.id() + " is registered twice with different addresses: "
                + prev.grpcAddress() + " and " + n.grpcAddress());
      }
    }
    List<DataNode> sorted = new ArrayList<>(byId.values());
    sorted.sort(Comparator.comparing(DataNode::id));
    return new Placement(List.copyOf(sorted));
  }

  /** The number of copies of a group with {@code replicas} extra copies. */
  public static int copies(int replicas) {
    if (replicas < 0) {
      throw new IllegalArgumentException("replicas must be >= 0, got " + replicas);
    }
    return replicas + 1;
  }

  /** The rendezvous score of a node for (group, shard); higher wins. Compare unsigned. */
  public static long score(String group, int shard, NodeId node) {
    checkGroupShard(group, shard);
    return ShardRouter.xxHash64(
        (group + '/' + shard + '/' + node.value()).getBytes(StandardCharsets.UTF_8));
  }

  /** The registered data nodes, de-duplicated, sorted by id. */
  public List<DataNode> nodes() {
    return nodes;
  }

  /** Whether {@code copies} distinct nodes are registered. */
  public boolean canPlace(int copies) {
    checkCopies(copies);
    return copies <= nodes.size();
  }

  /**
   * Group create/update check.
   *
   * @throws FailedPreconditionException if fewer than {@code copies} data nodes are registered
   */
  public void requireCapacity(String group, int copies) {
    checkCopies(copies);
    if (copies > nodes.size()) {
      throw new FailedPreconditionException(shortfall(group, copies));
    }
  }

  /**
   * The {@code copies} distinct nodes holding (group, shard), in placement order.
   *
   * @throws FailedPreconditionException if fewer than {@code copies} data nodes are registered
   */
  public List<DataNode> place(String group, int shard, int copies) {
    checkGroupShard(group, shard);
    requireCapacity(group, copies);
    return ranked(group, shard, copies);
  }

  /**
   * Like {@link #place} but with at most as many copies as there are registered nodes: when fewer
   * than {@code copies} nodes are registered it returns all of them, in placement order.
   *
   * @throws FailedPreconditionException if no data node is registered at all
   */
  public List<DataNode> placeCapped(String group, int shard, int copies) {
    checkGroupShard(group, shard);
    checkCopies(copies);
    if (nodes.isEmpty()) {
      throw new FailedPreconditionException(shortfall(group, copies));
    }
    return ranked(group, shard, Math.min(copies, nodes.size()));
  }

  private List<DataNode> ranked(String group, int shard, int count) {
    Scored[] all = new Scored[nodes.size()];
    for (int i = 0; i < all.length; i++) {
      DataNode n = nodes.get(i);
      all[i] = new Scored(n, score(group, shard, n.id()));
    }
    Arrays.sort(all, ORDER);
    List<DataNode> out = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      out.add(all[i].node);
    }
    return List.copyOf(out);
  }

  private String shortfall(String group, int copies) {
    int n = nodes.size();
    String have =
        n == 0 ? "no data nodes are" : "only " + n + (n == 1 ? " data node is" : " data nodes are");
    return "group " + group + " needs " + copies + (copies == 1 ? " copy" : " copies") + " but "
        + have + " registered";
  }

  private static void checkCopies(int copies) {
    if (copies < 1) {
      throw new IllegalArgumentException("copies must be >= 1, got " + copies);
    }
  }

  private static void checkGroupShard(String group, int shard) {
    if (group == null || group.isEmpty() || group.indexOf('/') >= 0) {
      throw new IllegalArgumentException("group must be non-empty without '/': '" + group + "'");
    }
    if (shard < 0) {
      throw new IllegalArgumentException("shard must be >= 0, got " + shard);
    }
  }

  private record Scored(DataNode node, long score) {}

  @Override
  public String toString() {
    return "Placement" + nodes;
  }
}
