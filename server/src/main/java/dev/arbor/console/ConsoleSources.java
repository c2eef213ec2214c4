package dev.arbor.console;

import dev.arbor.api.repair.v1.TracesRequest;
import dev.arbor.api.repair.v1.TracesResponse;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.RegisteredNode;
import dev.arbor.transport.UserDirectory;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * What the console of one node reads, handed over by its composition root.
 *
 * @param selfId this node's id (standalone: its name for itself)
 * @param selfRole {@code standalone}, {@code liaison} or {@code data}
 * @param nodes the registered nodes (standalone: itself alone)
 * @param metadata groups and schemas
 * @param replicas the node ids holding a shard, in placement (ring) order
 * @param access asks a storage node for its roots and copies
 * @param traces the trace store, cluster-wide; null on a node that keeps none (standalone)
 * @param launcher starts repair rounds; null where repair does not run (standalone)
 * @param users who may use the console, or null when anyone may
 * @param callTimeout how long a page waits for the nodes it asks
 */
public record ConsoleSources(String selfId, String selfRole, Supplier<List<RegisteredNode>> nodes,
    MetadataStore metadata, ReplicaLocator replicas, ReplicaAccess access,
    Function<TracesRequest, TracesResponse> traces, RepairLauncher launcher, UserDirectory users,
    Duration callTimeout) {

  /** The node ids holding a shard, in placement order. */
  @FunctionalInterface
  public interface ReplicaLocator {
    List<String> replicas(String group, int shard, int copies);
  }

  /** A registration label: when the node registered (epoch ms), shown as its registration age. */
  public static final String REGISTERED_AT_LABEL = "registered_at_ms";
}
