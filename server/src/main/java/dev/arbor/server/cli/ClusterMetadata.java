package dev.arbor.server.cli;

import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.NodeRegistry;
import dev.arbor.metadata.etcd.EtcdClientConfig;
import dev.arbor.metadata.etcd.EtcdConnection;
import dev.arbor.metadata.etcd.EtcdMetadataStore;
import dev.arbor.metadata.etcd.EtcdNodeRegistry;
import dev.arbor.property.HybridClock;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code --metadata etcd://host:port[,host:port]}: cluster metadata and membership on etcd, for
 * the data and liaison roles running as separate processes. One etcd client serves both.
 */
final class ClusterMetadata implements AutoCloseable {
  @Option(names = "--metadata", paramLabel = "etcd[s]://HOST:PORT[,HOST:PORT]",
      description = "etcd endpoints holding groups, schemas and node registrations; etcds:// connects over TLS"
          + " (see --etcd-ca-file).")
  String metadata;

  @Mixin EtcdOptions etcd;

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
    if (metadata == null && etcd.anyGiven()) {
      throw new CliInputException("the --etcd-* options need --metadata etcd[s]://HOST:PORT");
    }
    return metadata != null;
  }

  void connect(HybridClock clock) {
    connect(clock, EtcdClientConfig.DEFAULT_RELOAD_INTERVAL);
  }

  /** Connects; the etcd CA and client certificate files are checked for changes every {@code reloadInterval}. */
  void connect(HybridClock clock, Duration reloadInterval) {
    connect(clock, System::getenv, reloadInterval);
  }

  void connect(HybridClock clock, UnaryOperator<String> env) {
    connect(clock, env, EtcdClientConfig.DEFAULT_RELOAD_INTERVAL);
  }

  void connect(HybridClock clock, UnaryOperator<String> env, Duration reloadInterval) {
    EtcdClientConfig config = config(env).withReloadInterval(reloadInterval);
    connection = EtcdConnection.connect(config);
    store = EtcdMetadataStore.open(connection, EtcdMetadataStore.DEFAULT_PREFIX, clock);
    registry = EtcdNodeRegistry.open(connection, EtcdMetadataStore.DEFAULT_PREFIX);
  }

  /** Checks every flag (one line naming it when wrong) before anything connects. */
  EtcdClientConfig config(UnaryOperator<String> env) {
    if (metadata == null) {
      throw new IllegalArgumentException("--metadata etcd://host:port is required for this role");
    }
    // etcds:// is TLS (as https:// is to http://): the scheme, not the presence of a CA file,
    // says whether the connection is encrypted, so leaving out a flag never silently downgrades.
    boolean tls = metadata.startsWith("etcds://");
    if (!tls && !metadata.startsWith("etcd://")) {
      throw new IllegalArgumentException("--metadata must be etcd://host:port[,host:port] or etcds://... for TLS"
          + " (got '" + metadata + "'); to run every role on one machine without etcd use 'arbor dev-cluster'");
    }
    List<URI> endpoints = new ArrayList<>();
    for (String hp : metadata.substring(metadata.indexOf("://") + 3).split(",")) {
      if (!hp.matches("[^:/]+:\\d+")) {
        throw new IllegalArgumentException("--metadata: '" + hp + "' is not host:port");
      }
      endpoints.add(URI.create((tls ? "https://" : "http://") + hp));
    }
    return etcd.config(endpoints, timeout, tls, env);
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
