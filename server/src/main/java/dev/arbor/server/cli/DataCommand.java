package dev.arbor.server.cli;

import dev.arbor.property.HybridClock;
import dev.arbor.server.DataNodeServer;
import dev.arbor.server.ServerConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code arbor data}: a data node of a cluster (metadata and membership on etcd). */
@Command(
    name = "data",
    mixinStandardHelpOptions = true,
    description = "Run a data node: stores shard copies, builds repair trees, serves the internal API (peers,"
        + " liaisons) on --internal-port and the admin API (operators) on --grpc-port.")
public final class DataCommand implements Callable<Integer> {
  @Option(names = "--node-id", required = true, description = "Unique id of this node in the cluster.")
  String nodeId;

  @Option(names = "--data-dir", required = true, description = "Data directory of this node.")
  Path dataDir;

  @Option(names = "--advertise-host", defaultValue = "127.0.0.1",
      description = "Host other nodes reach this one at (default: ${DEFAULT-VALUE}).")
  String advertiseHost;

  @Mixin ListenOptions listen;
  @Mixin StorageOptions storage;
  @Mixin RepairOptions repair;
  @Mixin DataNodeOptions dataNode;
  @Mixin ClusterMetadata cluster;
  @Mixin SecurityOptions security;
  @Mixin InternalListenOptions internal;
  @Mixin InternalTlsOptions internalTls;

  @Override
  public Integer call() throws Exception {
    ServerConfig config = storage.config(
        dataDir, listen.host, listen.grpcPort, listen.httpPort, dev.arbor.liaison.RequestLimits.DEFAULTS)
        .withRepair(repair.config()).withServerLimits(listen.serverLimits()).withResponseBudget(dataNode.budget());
    dev.arbor.transport.SecurityConfig adminSecurity = security.config();
    dev.arbor.server.InternalListener internalListener =
        internal.config(listen.host, internalTls.config(adminSecurity.reloadInterval()));
    internalListener.checkExposure(); // before connecting to etcd: a refused start says why at once
    UntilSignal signal = new UntilSignal();
    // The node's one runtime (clocks, threads); the data node owns and closes it.
    dev.arbor.runtime.NodeRuntime runtime = dev.arbor.runtime.NodeRuntime.system();
    try (ClusterMetadata meta = cluster) {
      meta.connect(new HybridClock(runtime.wallClock()::nanos), adminSecurity.reloadInterval());
      try (DataNodeServer node = DataNodeServer.start(runtime,
          nodeId, config, meta.store(), meta.registry(), advertiseHost, meta.nodeTtl, adminSecurity,
          internalListener)) {
        ServingLine.print(System.out, "Arbor data node %s serving %s (internal, %s), admin gRPC on %s:%d, HTTP %d (%s),"
                + " data in %s",
            nodeId, node.advertisedAddress(), internalListener.tls() == null ? "plaintext" : "mutual TLS",
            listen.host, node.grpcPort(), node.httpPort(), security.describe(), dataDir.toAbsolutePath());
        signal.await();
        System.out.println("Arbor data node " + nodeId + " shutting down");
      }
    }
    return 0;
  }
}
