package dev.arbor.bench;

import dev.arbor.bench.cluster.ClusterProcesses;
import dev.arbor.harness.ArborServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A cluster of separate processes behind one API-benchmark target ({@code --deployment
 * processes}): etcd, N {@code arbor data} JVMs and an {@code arbor liaison}, from
 * {@link ClusterProcesses}. Never paused: the data nodes' etcd leases and the liaison's
 * connections would time out.
 */
final class ClusterSide implements ServerSide {
  private final ClusterProcesses cluster;

  ClusterSide(ClusterProcesses cluster) {
    this.cluster = cluster;
  }

  ClusterProcesses cluster() {
    return cluster;
  }

  @Override
  public dev.arbor.transport.ChannelFactory internalChannels(String nodeId) {
    return cluster.internalChannels(nodeId);
  }

  @Override
  public double metric(String name) {
    return cluster.tls() == null ? LiaisonMetrics.read(httpPort(), name)
        : LiaisonMetrics.read(cluster.tls().httpClient(java.time.Duration.ofSeconds(2)), "https",
            httpPort(), name);
  }

  @Override
  public String target() {
    return cluster.liaison().grpcTarget();
  }

  @Override
  public long cpuNanos() {
    return cluster.cpuNanos();
  }

  @Override
  public boolean alive() {
    return cluster.alive();
  }

  @Override
  public long rssBytes() {
    return cluster.rssBytes();
  }

  @Override
  public long dataBytes() {
    long sum = 0;
    for (String id : cluster.dataNodeIds()) {
      try (Stream<Path> s = Files.walk(cluster.dataNode(id).dataDir())) {
        sum += s.filter(Files::isRegularFile).mapToLong(p -> {
          try {
            return Files.size(p);
          } catch (IOException e) {
            return 0;
          }
        }).sum();
      } catch (IOException | UncheckedIOException e) {
        return -1;
      }
    }
    return sum;
  }

  @Override
  public Path log() {
    return cluster.liaison().log();
  }

  @Override
  public String logTail(int lines) {
    return cluster.liaison().logTail(lines);
  }

  @Override
  public int httpPort() {
    return cluster.liaison().httpPort();
  }

  @Override
  public String describe() {
    StringBuilder b = new StringBuilder("pids: liaison ").append(cluster.liaison().pid());
    for (String id : cluster.dataNodeIds()) {
      b.append(", ").append(id).append(' ').append(cluster.dataNode(id).pid());
    }
    return b.append("; logs under ").append(cluster.workDir().resolve("logs")).toString();
  }

  @Override
  public boolean pausable() {
    return false;
  }

  @Override
  public void pause() {}

  @Override
  public void resume() {}

  @Override
  public Map<String, String> dataNodes() {
    Map<String, String> out = new LinkedHashMap<>();
    for (String id : cluster.dataNodeIds()) {
      ArborServer n = cluster.dataNode(id);
      out.put(id, n.internalTarget());
    }
    return out;
  }

  @Override
  public void close() {
    cluster.close();
  }
}
