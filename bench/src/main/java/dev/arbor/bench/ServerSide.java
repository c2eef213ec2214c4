package dev.arbor.bench;

import dev.arbor.transport.ChannelFactory;
import java.nio.file.Path;
import java.util.Map;

/**
 * What the API benchmark started behind one target: a standalone server or a {@code dev-cluster}
 * ({@link ServerProcess}, one JVM), or a cluster of separate processes ({@link ClusterSide}). Its
 * CPU and memory figures cover every process of it.
 */
interface ServerSide extends AutoCloseable {
  /** {@code host:port} of the public API. */
  String target();

  /** utime + stime of every process, in nanoseconds; -1 when unknown. */
  long cpuNanos();

  boolean alive();

  /** Resident memory of every process, in bytes; -1 when unknown. */
  long rssBytes();

  /** Bytes of files under the data directories. */
  long dataBytes();

  /** The log of the process serving the public API. */
  Path log();

  String logTail(int lines);

  /** "pid N" or the pids of every process, for log lines. */
  String describe();

  /**
   * Whether {@link #pause} may stop it between steps: only when no peer outside it has timers
   * that would expire meanwhile (not a cluster of processes with etcd leases).
   */
  boolean pausable();

  void pause();

  void resume();

  /** The HTTP port of the process serving the public API ({@code /health}, {@code /metrics}). */
  int httpPort();

  /** Data node id to its internal API address ({@code host:port}); empty for standalone. */
  Map<String, String> dataNodes();

  /** Channels to the internal listener of data node {@code nodeId} (see {@link #dataNodes}). */
  default ChannelFactory internalChannels(String nodeId) {
    return ChannelFactory.plaintext();
  }

  /** The sum of the samples of {@code name} on the public HTTP port's /metrics; -1 when unreadable. */
  default double metric(String name) {
    return LiaisonMetrics.read(httpPort(), name);
  }

  @Override
  void close();
}
