package dev.arbor.repair.handoff;

import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.Placement;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Function;
import java.util.function.Supplier;

/** Whether this node is in a shard's current placement, and who the other owners are. */
public final class CopyOwnership {
  private final String self;
  private final Supplier<List<DataNode>> dataNodes;
  private final Function<String, OptionalInt> copies;

  /**
   * @param dataNodes the registered data nodes now
   * @param copies copies a group keeps, empty for a group that is unknown or keeps one copy
   *     (nothing to hand to)
   */
  public CopyOwnership(String self, Supplier<List<DataNode>> dataNodes, Function<String, OptionalInt> copies) {
    this.self = self;
    this.dataNodes = dataNodes;
    this.copies = copies;
  }

  /** Empty when it cannot be told (group not replicated or unknown, no node registered). */
  public Optional<Boolean> owns(ShardRef s) {
    return placement(s).map(p -> p.stream().anyMatch(n -> n.id().value().equals(self)));
  }

  /** The shard's owners other than this node, in placement order. */
  public List<DataNode> otherOwners(ShardRef s) {
    return placement(s).orElse(List.of()).stream().filter(n -> !n.id().value().equals(self)).toList();
  }

  private Optional<List<DataNode>> placement(ShardRef s) {
    OptionalInt c = copies.apply(s.group());
    List<DataNode> nodes = dataNodes.get();
    if (c.isEmpty() || nodes.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(Placement.of(nodes).placeCapped(s.group(), s.shard(), c.getAsInt()));
  }
}
