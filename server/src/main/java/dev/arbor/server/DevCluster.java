package dev.arbor.server;

import dev.arbor.cluster.WriteConsistency;
import dev.arbor.liaison.ReplicaCallLimits;
import dev.arbor.liaison.RequestLimits;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.NodeRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A whole cluster in one process for one machine: N data nodes (internal listeners on loopback,
 * plaintext) and a liaison (registered as {@value #LIAISON_ID}) on loopback ports,
 * sharing one metadata store (embedded, or etcd when given) — a composition root. Node
 * registrations come from {@link NodeRegistries}: an embedded registry is shared, while etcd
 * needs one registry per data node because each registration is its own lease.
 */
public final class DevCluster implements AutoCloseable {
  /** The node id the dev cluster's liaison registers under. */
  public static final String LIAISON_ID = "liaison";
  private final List<DataNodeServer> dataNodes;
  private final LiaisonServer liaison;

  private DevCluster(List<DataNodeServer> dataNodes, LiaisonServer liaison) {
    this.dataNodes = dataNodes;
    this.liaison = liaison;
  }

  /**
   * @param nodeTemplate settings of every data node; its data directory is the base directory
   *     (each node gets {@code data-<i>} below it) and its ports are ignored (ephemeral)
   */
  public static DevCluster start(int nodes, ServerConfig nodeTemplate, MetadataStore metadata,
      NodeRegistry registry, String host, int grpcPort, int httpPort, RequestLimits limits,
      WriteConsistency consistency) throws IOException {
    return start(nodes, nodeTemplate, metadata, NodeRegistries.shared(registry), host, grpcPort, httpPort, limits,
        consistency, ReplicaCallLimits.DEFAULTS);
  }

  /**
   * Where the dev cluster's processes-in-one find their node registries: the liaison watches
   * {@link #watched()}, each data node registers through its own {@link #forDataNode()}.
   */
  public interface NodeRegistries {
    NodeRegistry watched();

    NodeRegistry forDataNode();

    /** One registry for everything (the embedded registry holds any number of registrations). */
    static NodeRegistries shared(NodeRegistry registry) {
      return new NodeRegistries() {
        @Override
        public NodeRegistry watched() {
          return registry;
        }

        @Override
        public NodeRegistry forDataNode() {
          return registry;
        }
      };
    }
  }

  /** As above, the liaison's calls to data nodes held to {@code fanOut}. */
  public static DevCluster start(int nodes, ServerConfig nodeTemplate, MetadataStore metadata,
      NodeRegistries registries, String host, int grpcPort, int httpPort, RequestLimits limits,
      WriteConsistency consistency, ReplicaCallLimits fanOut) throws IOException {
    List<DataNodeServer> started = new ArrayList<>();
    try {
      for (int i = 1; i <= nodes; i++) {
        Path dir = nodeTemplate.dataDir().resolve("data-" + i);
        ServerConfig cfg = nodeTemplate.withDataDir(dir).withHost(host).withPorts(0, 0);
        // One runtime per node, as if each ran in a process of its own; the node closes it.
        started.add(DataNodeServer.start(dev.arbor.runtime.NodeRuntime.system(), "data-" + i, cfg, metadata,
            registries.forDataNode(), "127.0.0.1", Duration.ofSeconds(10), dev.arbor.transport.SecurityConfig.NONE,
            InternalListener.loopback()));
      }
      dev.arbor.runtime.NodeRuntime liaisonRuntime = dev.arbor.runtime.NodeRuntime.system();
      LiaisonServer liaison = LiaisonServer.start(liaisonRuntime, host, grpcPort, httpPort, metadata,
          registries.watched(), limits, consistency, Duration.ofSeconds(5), 1024,
          new dev.arbor.property.HybridClock(liaisonRuntime.wallClock()::nanos), nodeTemplate.serverLimits(), fanOut,
          dev.arbor.transport.SecurityConfig.NONE,
          new LiaisonMembership(LIAISON_ID, "127.0.0.1", Duration.ofSeconds(10), null));
      return new DevCluster(started, liaison);
    } catch (IOException | RuntimeException e) {
      started.forEach(DataNodeServer::close);
      throw e;
    }
  }

  public List<DataNodeServer> dataNodes() {
    return dataNodes;
  }

  public LiaisonServer liaison() {
    return liaison;
  }

  @Override
  public void close() {
    liaison.close();
    dataNodes.forEach(DataNodeServer::close);
  }
}
