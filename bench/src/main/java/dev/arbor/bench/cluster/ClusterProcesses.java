package dev.arbor.bench.cluster;

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
public final class ClusterProcesses implements AutoCloseable {
  public static final int MAX_MESSAGE = 256 << 20;

  private final Path workDir;
  private final Duration startupTimeout;
  private EtcdProcess etcd;
  private final Map<String, ArborNode> dataNodes = new LinkedHashMap<>();
  private final Map<String, ManagedChannel> channels = new LinkedHashMap<>();
  private final Map<String, ManagedChannel> adminChannels = new LinkedHashMap<>();
  private ArborNode liaison;
  private ManagedChannel liaisonChannel;
  private long startMillis;

  private ClusterProcesses(Path workDir, Duration startupTimeout) {
    this.workDir = workDir;
    this.startupTimeout = startupTimeout;
  }

  public static ClusterProcesses start(Path jar, Path workDir, int nodes, List<String> dataJvmOpts,
      List<String> liaisonJvmOpts, String nodeTtl, List<String> nodeArgs, Duration startupTimeout)
      throws Exception {
    return start(jar, workDir, nodes, dataJvmOpts, liaisonJvmOpts, nodeTtl, nodeArgs, List.of(),
        startupTimeout);
  }

  /** As above, with {@code liaisonArgs} added to the liaison's command line. */
  public static ClusterProcesses start(Path jar, Path workDir, int nodes, List<String> dataJvmOpts,
      List<String> liaisonJvmOpts, String nodeTtl, List<String> nodeArgs,
      List<String> liaisonArgs, Duration startupTimeout) throws Exception {
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
      c.liaison = ArborNode.startLiaison(jar, liaisonJvmOpts, metadata, nodeTtl, liaisonArgs, logs,
          startupTimeout);
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
    channels.put(id, ChannelFactory.plaintext().open(dataNodes.get(id).internalTarget(), MAX_MESSAGE));
    ManagedChannel oldAdmin = adminChannels.remove(id);
    if (oldAdmin != null) {
      oldAdmin.shutdownNow();
    }
    adminChannels.put(id, ChannelFactory.plaintext().open(dataNodes.get(id).grpcTarget(), MAX_MESSAGE));
  }

  /** The data nodes holding (group, shard), in placement (ring) order. */
  public List<String> placement(String group, int shard, int copies) {
    List<DataNode> registered = new ArrayList<>();
    for (ArborNode n : dataNodes.values()) {
      registered.add(DataNode.of(n.nodeId(), "127.0.0.1:" + n.grpcPort()));
    }
    return Placement.of(registered).place(group, shard, copies).stream()
        .map(d -> d.id().value()).toList();
  }

  public void kill(String nodeId) {
    dataNodes.get(nodeId).kill9();
  }

  /** Starts a killed data node again on its directory and ports; a fresh channel to it. */
  public void restart(String nodeId) throws IOException {
    dataNodes.get(nodeId).restart(startupTimeout);
    openChannel(nodeId);
  }

  public ArborNode dataNode(String id) {
    return dataNodes.get(id);
  }

  public List<String> dataNodeIds() {
    return List.copyOf(dataNodes.keySet());
  }

  /** A channel to the node's internal listener ({@code DataNodeService}). */
  public ManagedChannel channel(String nodeId) {
    return channels.get(nodeId);
  }

  /** A channel to the node's admin listener (repair runs, tree builds, traces). */
  public ManagedChannel adminChannel(String nodeId) {
    return adminChannels.get(nodeId);
  }

  public ManagedChannel liaisonChannel() {
    return liaisonChannel;
  }

  public ArborNode liaison() {
    return liaison;
  }

  public long startMillis() {
    return startMillis;
  }

  public Path workDir() {
    return workDir;
  }

  /** Every process of the cluster: etcd, the data nodes, the liaison (those started so far). */
  public List<Long> pids() {
    List<Long> pids = new ArrayList<>();
    if (etcd != null) {
      pids.add(etcd.pid());
    }
    dataNodes.values().forEach(n -> pids.add(n.pid()));
    if (liaison != null) {
      pids.add(liaison.pid());
    }
    return pids;
  }

  /** utime + stime of every process of the cluster, in nanoseconds; -1 when one is unknown. */
  public long cpuNanos() {
    long sum = 0;
    for (long pid : pids()) {
      long n = ProcStats.cpuNanos(pid);
      if (n < 0) {
        return -1;
      }
      sum += n;
    }
    return sum;
  }

  /** Resident memory of every process of the cluster, in bytes; -1 when one is unknown. */
  public long rssBytes() {
    long sum = 0;
    for (long pid : pids()) {
      long n = ProcStats.rssBytes(pid);
      if (n < 0) {
        return -1;
      }
      sum += n;
    }
    return sum;
  }

  /** Whether etcd, every data node and the liaison still run. */
  public boolean alive() {
    return etcd != null && etcd.alive() && liaison != null && liaison.alive()
        && dataNodes.values().stream().allMatch(ArborNode::alive);
  }

  @Override
  public void close() {
    if (liaisonChannel != null) {
      liaisonChannel.shutdownNow();
    }
    adminChannels.values().forEach(ManagedChannel::shutdownNow);
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
