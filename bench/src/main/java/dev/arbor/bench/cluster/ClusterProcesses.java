package dev.arbor.bench.cluster;

import dev.arbor.transport.ChannelFactory;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.Placement;
import dev.arbor.harness.ArborJar;
import dev.arbor.harness.ArborServer;
import dev.arbor.harness.ClusterOfProcesses;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The benchmarks' view of a real cluster on loopback: the shared harness's {@link
 * ClusterOfProcesses} (one etcd, N {@code arbor data} JVMs {@code d1..dN}, each with its own data
 * directory and a long {@code --node-ttl} so a killed node stays registered and keeps its shards,
 * and one {@code arbor liaison} serving the public API) plus the benchmark's gRPC channels: one
 * per data node (internal API: DataNodeService; admin: TreeAdminService, RepairAdminService) and
 * one to the liaison. Placement is computed with the server's own {@link Placement} over the node
 * ids and advertised addresses, exactly as the liaison and the repair rounds do.
 */
public final class ClusterProcesses implements AutoCloseable {
  public static final int MAX_MESSAGE = 256 << 20;
  /** The node id of the liaison's certificate in a TLS cluster. */
  public static final String LIAISON_ID = "bench-liaison";

  private final ClusterOfProcesses procs;
  private final Map<String, ManagedChannel> channels = new LinkedHashMap<>();
  private final Map<String, ManagedChannel> adminChannels = new LinkedHashMap<>();
  private ManagedChannel liaisonChannel;
  /** Null: plaintext everywhere; otherwise the CA of the nodes' certificates. */
  private final BenchPki tls;

  private ClusterProcesses(ClusterOfProcesses procs, BenchPki tls) {
    this.procs = procs;
    this.tls = tls;
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
    return start(jar, workDir, nodes, dataJvmOpts, liaisonJvmOpts, nodeTtl, nodeArgs, liaisonArgs,
        null, startupTimeout);
  }

  /**
   * As above; {@code tls} non-null: TLS everywhere but etcd, with certificates of that CA (one per
   * data node, CN = its node id; one for the liaison, which presents it as node id
   * {@value #LIAISON_ID}): mutual TLS on the data nodes' internal listeners (the liaison's and the
   * peers' calls), TLS on their admin and HTTP ports and on the liaison's public ports; the
   * benchmark's own channels verify the CA. A server jar from before the internal listener gets
   * no {@code --internal-*} flags (see {@link ArborJar}).
   */
  public static ClusterProcesses start(Path jar, Path workDir, int nodes, List<String> dataJvmOpts,
      List<String> liaisonJvmOpts, String nodeTtl, List<String> nodeArgs,
      List<String> liaisonArgs, BenchPki tls, Duration startupTimeout) throws Exception {
    ClusterOfProcesses.Builder b = ClusterOfProcesses.builder(ArborJar.of(jar), workDir)
        .dataNodes(nodes)
        .dataJvmOpts(dataJvmOpts)
        .liaisonJvmOpts(liaisonJvmOpts)
        .nodeTtl(nodeTtl)
        .dataArgs(nodeArgs)
        .liaison("liaison", liaisonArgs)
        .startupTimeout(startupTimeout);
    if (tls != null) {
      b.tls(tls, LIAISON_ID);
    }
    ClusterProcesses c = new ClusterProcesses(b.start(), tls);
    try {
      for (String id : c.procs.dataNodeIds()) {
        c.openChannel(id);
      }
      c.liaisonChannel = c.publicChannels().open(c.liaison().grpcTarget(), MAX_MESSAGE);
      return c;
    } catch (RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /** The CA of this cluster's certificates; null when it runs plaintext. */
  public BenchPki tls() {
    return tls;
  }

  /** Channels to the liaison's public port and the data nodes' admin ports: TLS verifying the CA. */
  public ChannelFactory publicChannels() {
    return tls == null ? ChannelFactory.plaintext() : ChannelFactory.of(tls.client());
  }

  /**
   * Channels to a data node's internal listener. With TLS, the listener admits only a client
   * certificate of a registered member: the benchmark presents the node's own certificate (the
   * node itself is registered while it serves, and no extra identity has to be registered).
   */
  public ChannelFactory internalChannels(String nodeId) {
    return tls == null ? ChannelFactory.plaintext() : ChannelFactory.of(tls.client(procs.cert(nodeId)));
  }

  private void openChannel(String id) {
    ManagedChannel old = channels.remove(id);
    if (old != null) {
      old.shutdownNow();
    }
    channels.put(id, internalChannels(id).open(procs.dataNode(id).internalTarget(), MAX_MESSAGE));
    ManagedChannel oldAdmin = adminChannels.remove(id);
    if (oldAdmin != null) {
      oldAdmin.shutdownNow();
    }
    adminChannels.put(id, publicChannels().open(procs.dataNode(id).grpcTarget(), MAX_MESSAGE));
  }

  /** The data nodes holding (group, shard), in placement (ring) order. */
  public List<String> placement(String group, int shard, int copies) {
    List<DataNode> registered = new ArrayList<>();
    for (ArborServer n : procs.dataNodes().values()) {
      registered.add(DataNode.of(n.nodeId(), "127.0.0.1:" + n.grpcPort()));
    }
    return Placement.of(registered).place(group, shard, copies).stream()
        .map(d -> d.id().value()).toList();
  }

  /** SIGKILL (a running node only): it stays registered and keeps its shards. */
  public void kill(String nodeId) {
    if (procs.dataNode(nodeId).alive()) {
      procs.kill9(nodeId);
    }
  }

  /** Starts a killed data node again on its directory and ports; a fresh channel to it. */
  public void restart(String nodeId) throws IOException {
    procs.restart(nodeId);
    openChannel(nodeId);
  }

  public ArborServer dataNode(String id) {
    return procs.dataNode(id);
  }

  public List<String> dataNodeIds() {
    return procs.dataNodeIds();
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

  public ArborServer liaison() {
    return procs.liaison();
  }

  public long startMillis() {
    return procs.startMillis();
  }

  public Path workDir() {
    return procs.workDir();
  }

  /** Every process of the cluster: etcd, the data nodes, the liaison. */
  public List<Long> pids() {
    return procs.pids();
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
    return procs.alive();
  }

  /** Closes the channels, then stops the processes (liaison, data nodes, etcd). */
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
    procs.close();
  }
}
