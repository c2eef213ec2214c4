package dev.arbor.repair.coverage;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.Placement;
import dev.arbor.metadata.MetadataStore;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The ring of a shard: its replica nodes in placement order among the registered data nodes
 * (never "reachable right now"), the same on every node that sees the same membership.
 */
public final class ReplicaRings {
  private final MetadataStore metadata;
  private final Supplier<List<DataNode>> dataNodes;

  public ReplicaRings(MetadataStore metadata, Supplier<List<DataNode>> dataNodes) {
    this.metadata = metadata;
    this.dataNodes = dataNodes;
  }

  /** Property groups keeping two or more copies: the ones repair reconciles. */
  public List<Group> replicatedGroups() {
    return metadata.groups().stream().filter(ReplicaRings::replicated).toList();
  }

  /** The group, when it exists. */
  public Optional<Group> group(String name) {
    return metadata.group(name);
  }

  public static boolean replicated(Group g) {
    return g.getCatalog() == Catalog.CATALOG_PROPERTY && g.getResourceOpts().getShardNum() > 0
        && Placement.copies(g.getResourceOpts().getReplicas()) >= 2;
  }

  /** The ring of (group, shard) for a group keeping {@code copies} copies; empty when no data node is registered. */
  public List<String> ring(String group, int shard, int copies) {
    List<DataNode> nodes = dataNodes.get();
    if (nodes.isEmpty()) {
      return List.of();
    }
    return Placement.of(nodes).placeCapped(group, shard, copies).stream().map(n -> n.id().value()).toList();
  }

  /** The ring of a shard of a replicated group. */
  public List<String> ring(Group g, int shard) {
    return ring(g.getMetadata().getName(), shard, Placement.copies(g.getResourceOpts().getReplicas()));
  }
}
