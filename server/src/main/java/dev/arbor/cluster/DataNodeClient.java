package dev.arbor.cluster;

import com.google.protobuf.ByteString;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.QueryShardsRequest;
import dev.arbor.api.cluster.v1.QueryShardsResponse;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.ReadResponse;
import dev.arbor.api.cluster.v1.ShardList;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.api.cluster.v1.WriteResponse;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.errors.UnavailableException;
import dev.arbor.query.QueryLimit;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import dev.arbor.transport.ChannelFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The liaison's client of one data node's internal API. Every call has a deadline; a node that
 * cannot be reached or does not answer in time surfaces as {@link UnavailableException} naming
 * the node, and the node's own rejections keep their meaning. A call that takes several requests
 * (a query answered in pages, a read of more keys than one request carries) shares one deadline.
 */
public final class DataNodeClient implements AutoCloseable {
  private final DataNode node;
  private final ManagedChannel channel;
  private final Duration timeout;

  /** @param timeout the deadline of each call, counted from when the call is made */
  public DataNodeClient(DataNode node, Duration timeout) {
    this(node, timeout, ChannelFactory.plaintext());
  }

  /** As above, its channel built by {@code channels} (TLS and credentials live there). */
  public DataNodeClient(DataNode node, Duration timeout, ChannelFactory channels) {
    this.node = node;
    this.timeout = timeout;
    this.channel = channels.open(node.grpcAddress(), InternalApiLimits.MAX_MESSAGE_BYTES);
  }

  public DataNode node() {
    return node;
  }

  /** The deadline of a call made now; callers that queue calls take it when they queue them. */
  public Deadline deadline() {
    return Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Sends records; returns what the node did with each. */
  public WriteReply write(List<StoredProperty> properties) {
    return write(properties, false);
  }

  /** @param fresh the records were stamped by the writer for this call (see {@code WriteRequest.fresh}) */
  public WriteReply write(List<StoredProperty> properties, boolean fresh) {
    return write(properties, fresh, deadline());
  }

  /** As {@link #write(List, boolean)}, within {@code deadline}. */
  public WriteReply write(List<StoredProperty> properties, boolean fresh, Deadline deadline) {
    WriteResponse r = call(() -> stub(deadline).write(
        WriteRequest.newBuilder().addAllProperties(properties).setFresh(fresh).build()));
    int n = properties.size();
    if (r.getOutcomesCount() == n) {
      // Reasons come one per record or not at all; anything else is read as none.
      return new WriteReply(r.getOutcomesList(), r.getRejection(),
          r.getRejectionsCount() == n ? r.getRejectionsList() : List.of());
    }
    if (r.getOutcomesCount() == 0) {
      // A node that predates outcomes reports only a count. Reading "not stored" as "holds
      // newer" is the safe side: the writer re-reads and writes above it, never acks a loser.
      WriteOutcome each = r.getStored() == n ? WriteOutcome.WRITE_OUTCOME_STORED : WriteOutcome.WRITE_OUTCOME_NOT_STORED_NEWER;
      return new WriteReply(java.util.Collections.nCopies(n, each), "");
    }
    throw new UnavailableException(describe() + " answered " + r.getOutcomesCount() + " write outcomes for " + n
        + " records");
  }

  /** The node's latest copy of each key it holds, tombstones included. */
  public List<StoredProperty> read(Collection<Key> keys) {
    return read(keys, deadline());
  }

  /**
   * As {@link #read(Collection)}, within {@code deadline}: as many requests as the node's limits
   * take (at most {@link InternalApiLimits#MAX_READ_KEYS} keys each, and again from the first key
   * a reply did not cover when it reached the node's byte budget). Always at least one request,
   * so an empty read still checks that the node answers.
   */
  public List<StoredProperty> read(Collection<Key> keys, Deadline deadline) {
    List<Key> all = List.copyOf(keys);
    List<StoredProperty> out = new ArrayList<>();
    int from = 0;
    do {
      List<Key> batch = all.subList(from, Math.min(all.size(), from + InternalApiLimits.MAX_READ_KEYS));
      ReadResponse r = call(() -> stub(deadline).read(
          ReadRequest.newBuilder().addAllKeys(batch).setAllowPartial(true).build()));
      // 0 from a node that predates partial reads: it answered every key.
      int answered = r.getKeysRead() == 0 ? batch.size() : r.getKeysRead();
      if (answered > batch.size() || (answered == 0 && !batch.isEmpty())) {
        throw new UnavailableException(describe() + " answered for " + r.getKeysRead() + " of " + batch.size() + " keys");
      }
      out.addAll(r.getPropertiesList());
      from += answered;
    } while (from < all.size());
    return out;
  }

  /** Whole live properties matching the query on the given shards of each group. */
  public List<StoredProperty> queryShards(QueryRequest query, Map<String, List<Integer>> shards) {
    return queryShards(query, shards, deadline());
  }

  /**
   * As {@link #queryShards(QueryRequest, Map)}, within {@code deadline}: the first
   * {@code query.limit} matches in the query's order, fetched page by page while the node has
   * more (it sends at most its byte budget per reply).
   */
  public List<StoredProperty> queryShards(QueryRequest query, Map<String, List<Integer>> shards, Deadline deadline) {
    int want = QueryLimit.clamped(query.getLimit());
    QueryShardsRequest.Builder b = QueryShardsRequest.newBuilder();
    shards.forEach((g, s) -> b.putShards(g, ShardList.newBuilder().addAllShards(s).build()));
    List<StoredProperty> out = new ArrayList<>();
    ByteString token = ByteString.EMPTY;
    do {
      QueryShardsRequest page = b.setQuery(query.toBuilder().setLimit(want - out.size())).setPageToken(token).build();
      QueryShardsResponse r = call(() -> stub(deadline).queryShards(page));
      if (r.getPropertiesCount() == 0 && !r.getNextPageToken().isEmpty()) {
        // Asking again would get the same answer: never loop on a node that makes no progress.
        throw new UnavailableException(describe() + " answered an empty page that says more follow");
      }
      out.addAll(r.getPropertiesList());
      token = r.getNextPageToken();
    } while (!token.isEmpty() && out.size() < want);
    return out.size() > want ? out.subList(0, want) : out;
  }

  private DataNodeServiceGrpc.DataNodeServiceBlockingStub stub(Deadline deadline) {
    return DataNodeServiceGrpc.newBlockingStub(channel).withDeadline(deadline);
  }

  private String describe() {
    return "data node " + node.id() + " (" + node.grpcAddress() + ")";
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
            describe() + " did not answer within " + timeout.toMillis() + " ms", e);
        default -> new UnavailableException(describe() + " failed: " + s.getCode() + " " + why, e);
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
