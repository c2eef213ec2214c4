package dev.arbor.bench.repair;

import dev.arbor.bench.cluster.ClusterProcesses;
import dev.arbor.bench.ServerJar;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * One server build's cluster in a repair run (etcd, data nodes, liaison, all from that build's
 * jar), the loaders writing to it, and the results of the scenarios run on it. With several
 * builds, each has its own cluster for the whole run.
 */
final class BuildCluster implements AutoCloseable {
  private final ServerJar jar;
  private final Instant jarBuilt;
  private final ClusterProcesses cluster;
  private final DataLoader loader;
  private final InternalLoader internal;
  private final String probe;
  private final List<RepairScenarioResult> results = new ArrayList<>();

  /**
   * @param internal the batch loader of {@code --load internal}; null for the public API
   * @param probe a group on every data node, written to with consistency {@code all} to wait
   *     until the liaison reaches every node again
   */
  BuildCluster(ServerJar jar, Instant jarBuilt, ClusterProcesses cluster, DataLoader loader,
      InternalLoader internal, String probe) {
    this.jar = jar;
    this.jarBuilt = jarBuilt;
    this.cluster = cluster;
    this.loader = loader;
    this.internal = internal;
    this.probe = probe;
  }

  ServerJar jar() {
    return jar;
  }

  String label() {
    return jar.label();
  }

  Instant jarBuilt() {
    return jarBuilt;
  }

  ClusterProcesses cluster() {
    return cluster;
  }

  DataLoader loader() {
    return loader;
  }

  /** Null unless {@code --load internal}. */
  InternalLoader internal() {
    return internal;
  }

  String probe() {
    return probe;
  }

  List<RepairScenarioResult> results() {
    return results;
  }

  /** Loaders first, then the processes (as the single-build run's try-with-resources did). */
  @Override
  public void close() {
    if (internal != null) {
      internal.close();
    }
    loader.close();
    cluster.close();
  }
}
