package dev.arbor.server.cli;

import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.NodeRegistry;
import dev.arbor.metadata.etcd.EtcdConnection;
import dev.arbor.metadata.etcd.EtcdMetadataStore;
import dev.arbor.metadata.etcd.EtcdNodeRegistry;
import dev.arbor.property.HybridClock;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * {@code --metadata etcd://host:port[,host:port]}: cluster metadata and membership on etcd, for
 * the data and liaison roles running as separate processes. One etcd client serves both.
 */
final class ClusterMetadata implements AutoCloseable {
  @Option(names = "--metadata", paramLabel = "etcd://HOST:PORT[,HOST:PORT]",
      description = "etcd endpoints holding groups, schemas and node registrations.")
  String metadata;

  @Option(names = "--metadata-timeout", defaultValue = "5s", converter = DurationConverter.class,
      description = "Deadline of each etcd call; also how long start-up waits for etcd (default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(names = "--node-ttl", defaultValue = "10s", converter = DurationConverter.class,
      description = "A data node that stops renewing its registration disappears after this (default: ${DEFAULT-VALUE}).")
  Duration nodeTtl;

  private EtcdConnection connection;
  private MetadataStore store;
  private NodeRegistry registry;
  private final List<NodeRegistry> extraRegistries = new ArrayList<>();

  boolean given() {
    return metadata != null;
  }

  void connect(HybridClock clock) {
    if (metadata == null) {
      throw new IllegalArgumentException("--metadata etcd://host:port is required for this role");
    }
    if (!metadata.startsWith("etcd://")) {
      throw new IllegalArgumentException("--metadata must be etcd://host:port[,host:port] (got '" + metadata
          + "'); to run every role on one machine without etcd use 'arbor dev-cluster'");
    }
    List<URI> endpoints = new ArrayList<>();
    for (String hp : metadata.substring("etcd://".length()).split(",")) {
      if (!hp.matches("[^:/]+:\\d+")) {
        throw new IllegalArgumentException("--metadata: '" + hp + "' is not host:port");
      }
      endpoints.add(URI.create("http://" + hp));
    }
    connection = EtcdConnection.connect(endpoints, timeout);
    store = EtcdMetadataStore.open(connection, EtcdMetadataStore.DEFAULT_PREFIX, clock);
    registry = EtcdNodeRegistry.open(connection, EtcdMetadataStore.DEFAULT_PREFIX);
  }

  MetadataStore store() {
    return store;
  }

  NodeRegistry registry() {
    return registry;
  }

  /**
   * Another registry on the same etcd connection, closed with this: each registry holds one
   * registration (its own lease), so a process hosting several data nodes needs one per node.
   */
  NodeRegistry newRegistry() {
    if (connection == null) {
      throw new IllegalStateException("not connected to etcd");
    }
    NodeRegistry extra = EtcdNodeRegistry.open(connection, EtcdMetadataStore.DEFAULT_PREFIX);
    extraRegistries.add(extra);
    return extra;
  }

  @Override
  public void close() {
    extraRegistries.forEach(NodeRegistry::close);
    if (registry != null) {
      registry.close();
    }
    if (store != null) {
      store.close();
    }
    if (connection != null) {
      connection.close();
    }
  }
}
