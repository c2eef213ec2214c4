package dev.arbor.cluster;

import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.QueryShardsRequest;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.ShardList;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.api.cluster.v1.WriteResponse;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.errors.UnavailableException;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The liaison's client of one data node's internal API. Every call has a deadline; a node that
 * cannot be reached or does not answer in time surfaces as {@link UnavailableException} naming
 * the node, and the node's own rejections keep their meaning.
 */
public final class DataNodeClient implements AutoCloseable {
  private static final int MAX_MESSAGE = 64 << 20;

  private final DataNode node;
  private final ManagedChannel channel;
  private final Duration deadline;

  public DataNodeClient(DataNode node, Duration deadline) {
    this.node = node;
    this.deadline = deadline;
    this.channel = NettyChannelBuilder.forTarget(node.grpcAddress())
        .usePlaintext()
        .maxInboundMessageSize(MAX_MESSAGE)
        .build();
  }

  public DataNode node() {
    return node;
  }

  /** Sends records; returns what the node did with each. */
  public WriteReply write(List<StoredProperty> properties) {
    return write(properties, false);
  }

  /** @param fresh the records were stamped by the writer for this call (see {@code WriteRequest.fresh}) */
  public WriteReply write(List<StoredProperty> properties, boolean fresh) {
    WriteResponse r = call(() -> stub().write(
        WriteRequest.newBuilder().addAllProperties(properties).setFresh(fresh).build()));
    int n = properties.size();
    if (r.getOutcomesCount() == n) {
      return new WriteReply(r.getOutcomesList(), r.getRejection());
    }
    if (r.getOutcomesCount() == 0) {
      // A node that predates outcomes reports only a count. Reading "not stored" as "holds
      // newer" is the safe side: the writer re-reads and writes above it, never acks a loser.
      WriteOutcome each = r.getStored() == n ? WriteOutcome.WRITE_OUTCOME_STORED : WriteOutcome.WRITE_OUTCOME_NOT_STORED_NEWER;
      return new WriteReply(java.util.Collections.nCopies(n, each), "");
    }
    throw new UnavailableException("data node " + node.id() + " (" + node.grpcAddress() + ") answered "
        + r.getOutcomesCount() + " write outcomes for " + n + " records");
  }

  /** The node's latest copy of each key it holds, tombstones included. */
  public List<StoredProperty> read(Collection<Key> keys) {
    return call(() -> stub().read(ReadRequest.newBuilder().addAllKeys(keys).build()).getPropertiesList());
  }

  /** Whole live properties matching the query on the given shards of each group. */
  public List<StoredProperty> queryShards(QueryRequest query, Map<String, List<Integer>> shards) {
    QueryShardsRequest.Builder b = QueryShardsRequest.newBuilder().setQuery(query);
    shards.forEach((g, s) -> b.putShards(g, ShardList.newBuilder().addAllShards(s).build()));
    return call(() -> stub().queryShards(b.build()).getPropertiesList());
  }

  private DataNodeServiceGrpc.DataNodeServiceBlockingStub stub() {
    return DataNodeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  private <T> T call(Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (StatusRuntimeException e) {
      Status s = e.getStatus();
      if (s.getCode() == Status.Code.UNAVAILABLE) {
        // Without this a node back from a long outage waits out gRPC's reconnect backoff (up to
        // two minutes); a refused connection on a LAN costs little to retry.
        channel.resetConnectBackoff();
      }
      String why = s.getDescription() == null ? s.getCode().name() : s.getDescription();
      throw switch (s.getCode()) {
        // The node's own rejections reach the user as they are: they name the request field.
        case INVALID_ARGUMENT -> new InvalidArgumentException(why);
        case NOT_FOUND -> new NotFoundException(why);
        case DEADLINE_EXCEEDED -> new UnavailableException(
            "data node " + node.id() + " (" + node.grpcAddress() + ") did not answer within " + deadline.toMillis() + " ms", e);
        default -> new UnavailableException(
            "data node " + node.id() + " (" + node.grpcAddress() + ") failed: " + s.getCode() + " " + why, e);
      };
    }
  }

  @Override
  public void close() {
    channel.shutdown();
    try {
      if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
        channel.shutdownNow();
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
