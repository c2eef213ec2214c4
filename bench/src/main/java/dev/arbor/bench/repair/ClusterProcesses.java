package dev.arbor.bench.repair;

import dev.arbor.transport.ChannelFactory;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.Placement;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A real cluster on loopback: one etcd, N {@code arbor data} JVMs ({@code d1..dN}, each with its
 * own data directory and a long {@code --node-ttl} so a killed node stays registered and keeps
 * its shards) and one {@code arbor liaison} serving the public API. Holds one gRPC channel per
 * data node (internal API: DataNodeService, TreeAdminService, RepairAdminService) and one to the
 * liaison. Placement is computed with the server's own {@link Placement} over the node ids and
 * advertised addresses, exactly as the liaison and the repair rounds do.
 */
final class ClusterProcesses implements AutoCloseable {
  static final int MAX_MESSAGE = 256 << 20;

  private final Path workDir;
  private final Duration startupTimeout;
  private EtcdProcess etcd;
  private final Map<String, ArborNode> dataNodes = new LinkedHashMap<>();
  private final Map<String, ManagedChannel> channels = new LinkedHashMap<>();
  private ArborNode liaison;
  private ManagedChannel liaisonChannel;
  private long startMillis;

  private ClusterProcesses(Path workDir, Duration startupTimeout) {
    this.workDir = workDir;
    this.startupTimeout = startupTimeout;
  }

  static ClusterProcesses start(Path jar, Path workDir, int nodes, List<String> dataJvmOpts,
      List<String> liaisonJvmOpts, String nodeTtl, List<String> nodeArgs, Duration startupTimeout)
      throws Exception {
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException("server jar not found: " + jar
          + " (build it: ./mvnw -B -DskipTests package)");
    }
    ClusterProcesses c = new ClusterProcesses(workDir, startupTimeout);
    long t0 = System.nanoTime();
    try {
      Path logs = Files.createDirectories(workDir.resolve("logs"));
      c.etcd = EtcdProcess.start(workDir.resolve("etcd"), Duration.ofSeconds(30));
      String metadata = c.etcd.metadataUri();
      ExecutorService pool = Executors.newFixedThreadPool(nodes);
      try {
        Map<String, Future<ArborNode>> starting = new LinkedHashMap<>();
        for (int i = 1; i <= nodes; i++) {
          String id = "d" + i;
          Path dir = Files.createDirectories(workDir.resolve(id));
          starting.put(id, pool.submit(() -> ArborNode.startData(jar, dataJvmOpts, id, dir,
              metadata, nodeTtl, nodeArgs, logs, startupTimeout)));
        }
        for (Map.Entry<String, Future<ArborNode>> e : starting.entrySet()) {
          try {
            c.dataNodes.put(e.getKey(), e.getValue().get());
          } catch (ExecutionException ex) {
            throw ex.getCause() instanceof Exception cause ? cause : ex;
          }
        }
      } finally {
        pool.shutdownNow();
      }
      for (String id : c.dataNodes.keySet()) {
        c.openChannel(id);
      }
      c.liaison = ArborNode.startLiaison(jar, liaisonJvmOpts, metadata, nodeTtl, logs, startupTimeout);
      c.liaisonChannel = ChannelFactory.plaintext().open(c.liaison.grpcTarget(), MAX_MESSAGE);
      c.startMillis = (System.nanoTime() - t0) / 1_000_000;
      return c;
    } catch (Exception e) {
      c.close();
      throw e;
    }
  }

  private void openChannel(String id) {
    ManagedChannel old = channels.remove(id);
    if (old != null) {
      old.shutdownNow();
    }
    channels.put(id, ChannelFactory.plaintext().open(dataNodes.get(id).grpcTarget(), MAX_MESSAGE));
  }

  /** The data nodes holding (group, shard), in placement (ring) order. */
  List<String> placement(String group, int shard, int copies) {
    List<DataNode> registered = new ArrayList<>();
    for (ArborNode n : dataNodes.values()) {
      registered.add(DataNode.of(n.nodeId(), "127.0.0.1:" + n.grpcPort()));
    }
    return Placement.of(registered).place(group, shard, copies).stream()
        .map(d -> d.id().value()).toList();
  }

  void kill(String nodeId) {
    dataNodes.get(nodeId).kill9();
  }

  /** Starts a killed data node again on its directory and ports; a fresh channel to it. */
  void restart(String nodeId) throws IOException {
    dataNodes.get(nodeId).restart(startupTimeout);
    openChannel(nodeId);
  }

  ArborNode dataNode(String id) {
    return dataNodes.get(id);
  }

  List<String> dataNodeIds() {
    return List.copyOf(dataNodes.keySet());
  }

  ManagedChannel channel(String nodeId) {
    return channels.get(nodeId);
  }

  ManagedChannel liaisonChannel() {
    return liaisonChannel;
  }

  ArborNode liaison() {
    return liaison;
  }

  long startMillis() {
    return startMillis;
  }

  Path workDir() {
    return workDir;
  }

  @Override
  public void close() {
    if (liaisonChannel != null) {
      liaisonChannel.shutdownNow();
    }
    channels.values().forEach(ManagedChannel::shutdownNow);
    for (ManagedChannel ch : channels.values()) {
      try {
        ch.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (liaison != null) {
      liaison.close();
    }
    // Data nodes in parallel: each graceful stop drains and commits.
    List<Thread> stoppers = new ArrayList<>();
    for (ArborNode n : dataNodes.values()) {
      Thread t = new Thread(n::close, "stop-" + n.name());
      t.start();
      stoppers.add(t);
    }
    for (Thread t : stoppers) {
      try {
        t.join(60_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (etcd != null) {
      etcd.close();
    }
  }
}
