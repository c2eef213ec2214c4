package dev.arbor.observability.trace;

import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.PeerChannels;
import dev.arbor.errors.UnavailableException;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.property.HybridClock;
import dev.arbor.repair.GrpcGossipPeers;
import dev.arbor.repair.RepairAdminGrpcService;
import dev.arbor.repair.RepairRounds;
import dev.arbor.repair.RoundObserver;
import dev.arbor.transport.BareServers;
import io.grpc.Server;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One test "data node": a span store in its own directory, a trace query over it and a real
 * gRPC server on a loopback port serving the production {@link RepairAdminGrpcService} (its
 * {@code Traces} call). The repair rounds behind it are real but never started here: there is no
 * gossip worker, so a round offered to this node itself is refused.
 */
public final class TraceNode implements AutoCloseable {
  private final String id;
  private final SpanStore store;
  private final TraceQuery query;
  private final EmbeddedMetadataStore metadata;
  private final PeerChannels channels;
  private final RepairRounds rounds;
  private final Server server;

  public TraceNode(String id, Path dir, Supplier<List<DataNode>> cluster, Duration peerDeadline) throws IOException {
    this.id = id;
    this.store = new SpanStore(dir.resolve(id).resolve("traces"), Duration.ofDays(3));
    this.query = new TraceQuery(id, store, cluster, peerDeadline);
    this.metadata = EmbeddedMetadataStore.open(dir.resolve(id).resolve("metadata"), HybridClock.system());
    this.channels = new PeerChannels(4 << 20);
    this.rounds = new RepairRounds(id, metadata, cluster,
        request -> {
          throw new UnavailableException("trace test node " + id + " runs no gossip worker");
        },
        new GrpcGossipPeers(cluster, channels, peerDeadline), new Tracer(id, store), RoundObserver.NONE,
        Duration.ofMinutes(1));
    this.server =
        BareServers.start("127.0.0.1", 0, new RepairAdminGrpcService(rounds, query));
  }

  public SpanStore store() {
    return store;
  }

  public TraceQuery query() {
    return query;
  }

  public DataNode node() {
    return DataNode.of(id, "127.0.0.1:" + server.getPort());
  }

  public String target() {
    return "127.0.0.1:" + server.getPort();
  }

  /** Stops serving (the node becomes unreachable); the store stays open. */
  public void stopServer() throws InterruptedException {
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    stopServer();
    rounds.close();
    channels.close();
    metadata.close();
    query.close();
    store.close();
  }
}
