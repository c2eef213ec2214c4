package dev.arbor.observability.trace;

import dev.arbor.cluster.DataNode;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One test "data node": a span store in its own directory, a trace query over it and a real
 * gRPC server on a loopback port serving {@code RepairAdminService.Traces}.
 */
public final class TraceNode implements AutoCloseable {
  private final String id;
  private final SpanStore store;
  private final TraceQuery query;
  private final Server server;

  public TraceNode(String id, Path dir, Supplier<List<DataNode>> cluster, Duration peerDeadline) throws IOException {
    this.id = id;
    this.store = new SpanStore(dir.resolve(id).resolve("traces"), Duration.ofDays(3));
    this.query = new TraceQuery(id, store, cluster, peerDeadline);
    this.server = ServerBuilder.forPort(0).addService(new TracesOnlyAdminService(query)).build().start();
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
    query.close();
    store.close();
  }
}
