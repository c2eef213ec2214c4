package dev.arbor.server.cli;

import dev.arbor.cluster.WriteConsistency;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.EmbeddedNodeRegistry;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.NodeRegistry;
import dev.arbor.property.HybridClock;
import dev.arbor.server.DataNodeServer;
import dev.arbor.server.DevCluster;
import dev.arbor.server.ServerConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code arbor dev-cluster}: a liaison and N data nodes in one process, for one machine. */
@Command(
    name = "dev-cluster",
    mixinStandardHelpOptions = true,
    description = "Run a local cluster in one process: a liaison and N data nodes on loopback.")
public final class DevClusterCommand implements Callable<Integer> {
  @Option(names = "--data-nodes", defaultValue = "3", description = "Number of data nodes (default: ${DEFAULT-VALUE}).")
  int dataNodes;

  @Option(names = "--base-dir", required = true, description = "Directory holding every node's data.")
  Path baseDir;

  @Option(names = "--write-consistency", defaultValue = "one",
      description = "Replicas that must acknowledge an apply or delete: one, quorum or all (default: ${DEFAULT-VALUE}).")
  String consistency;

  @Mixin ListenOptions listen;
  @Mixin LimitOptions limits;
  @Mixin StorageOptions storage;
  @Mixin RepairOptions repair;
  @Mixin DataNodeOptions dataNode;
  @Mixin ReplicaCallOptions replicaCalls;
  @Mixin ClusterMetadata cluster;

  @Override
  public Integer call() throws Exception {
    if (dataNodes < 1 || dataNodes > 64) {
      throw new IllegalArgumentException("--data-nodes must be between 1 and 64");
    }
    WriteConsistency level = WriteConsistency.parse(consistency);
    ServerConfig template = storage.config(baseDir, listen.host, 0, 0, limits.limits()).withRepair(repair.config())
        .withServerLimits(listen.serverLimits()).withResponseBudget(dataNode.budget());
    dev.arbor.liaison.ReplicaCallLimits fanOut = replicaCalls.limits();
    HybridClock clock = HybridClock.system();
    UntilSignal signal = new UntilSignal();
    try (ClusterMetadata meta = cluster) {
      MetadataStore metadata;
      DevCluster.NodeRegistries registries;
      if (meta.given()) {
        meta.connect(clock);
        metadata = meta.store();
        NodeRegistry watched = meta.registry();
        registries = new DevCluster.NodeRegistries() {
          @Override
          public NodeRegistry watched() {
            return watched;
          }

          @Override
          public NodeRegistry forDataNode() {
            return meta.newRegistry();
          }
        };
      } else {
        metadata = EmbeddedMetadataStore.open(baseDir.resolve("meta"), clock);
        registries = DevCluster.NodeRegistries.shared(new EmbeddedNodeRegistry());
      }
      try (DevCluster dev = DevCluster.start(dataNodes, template, metadata, registries, listen.host,
          listen.grpcPort, listen.httpPort, limits.limits(), level, fanOut)) {
        for (DataNodeServer n : dev.dataNodes()) {
          ServingLine.print(System.out, "data node %s: %s (HTTP %d, admin gRPC %d)", n.nodeId(), n.advertisedAddress(),
              n.httpPort(), n.grpcPort());
        }
        ServingLine.print(System.out, "Arbor dev cluster: liaison serving gRPC on %s:%d, HTTP on %s:%d, %d data node(s), data in %s",
            listen.host, dev.liaison().grpcPort(), listen.host, dev.liaison().httpPort(), dataNodes,
            baseDir.toAbsolutePath());
        signal.await();
        System.out.println("Arbor dev cluster shutting down");
      }
    }
    return 0;
  }
}
