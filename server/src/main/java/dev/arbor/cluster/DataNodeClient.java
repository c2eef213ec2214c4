package dev.arbor.cluster;

import com.google.protobuf.ByteString;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.banyandb.common.v1.Span;
import dev.arbor.api.cluster.v1.QueryShardsRequest;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.ShardList;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.errors.UnavailableException;
import dev.arbor.query.QueryLimit;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.PeerFutures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * {@link DataNodeCalls} over gRPC: the liaison's client of one data node's internal API, on async
 * stubs (no call blocks its caller). Every call has a deadline; a node that cannot be reached or
 * does not answer in time fails the future with {@link UnavailableException} naming the node, and
 * the node's own rejections keep their meaning. A call that takes several requests (a query
 * answered in pages, a read of more keys than one request carries) sends them one after the other
 * within one deadline.
 */
public final class DataNodeClient implements DataNodeCalls, AutoCloseable {
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

  @Override
  public DataNode node() {
    return node;
  }

  /** The deadline of a call made now; callers that queue calls take it when they queue them. */
  public Deadline deadline() {
    return Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Sends records; the future holds what the node did with each. */
  @Override
  public CompletableFuture<WriteReply> write(List<StoredProperty> properties, boolean fresh, Deadline deadline) {
    WriteRequest req = WriteRequest.newBuilder().addAllProperties(properties).setFresh(fresh).build();
    int n = properties.size();
    return call(stub(deadline)::write, req).thenApply(r -> {
      if (r.getOutcomesCount() == n) {
        // Reasons come one per record or not at all; anything else is read as none.
        return new WriteReply(r.getOutcomesList(), r.getRejection(),
            r.getRejectionsCount() == n ? r.getRejectionsList() : List.of());
      }
      if (r.getOutcomesCount() == 0) {
        // A node that predates outcomes reports only a count. Reading "not stored" as "holds
        // newer" is the safe side: the writer re-reads and writes above it, never acks a loser.
        WriteOutcome each = r.getStored() == n ? WriteOutcome.WRITE_OUTCOME_STORED
            : WriteOutcome.WRITE_OUTCOME_NOT_STORED_NEWER;
        return new WriteReply(java.util.Collections.nCopies(n, each), "");
      }
      throw new UnavailableException(describe() + " answered " + r.getOutcomesCount() + " write outcomes for " + n
          + " records");
    });
  }

  /**
   * The node's latest copy of each key it holds, within {@code deadline}: as many requests as the
   * node's limits take (at most {@link InternalApiLimits#MAX_READ_KEYS} keys each, and again from
   * the first key a reply did not cover when it reached the node's byte budget), one after the
   * other. Always at least one request, so an empty read still checks that the node answers.
   */
  @Override
  public CompletableFuture<List<StoredProperty>> read(Collection<Key> keys, Deadline deadline) {
    return readFrom(List.copyOf(keys), 0, new ArrayList<>(), deadline);
  }

  private CompletableFuture<List<StoredProperty>> readFrom(List<Key> all, int from, List<StoredProperty> out,
      Deadline deadline) {
    List<Key> batch = all.subList(from, Math.min(all.size(), from + InternalApiLimits.MAX_READ_KEYS));
    ReadRequest req = ReadRequest.newBuilder().addAllKeys(batch).setAllowPartial(true).build();
    return call(stub(deadline)::read, req).thenCompose(r -> {
      // 0 from a node that predates partial reads: it answered every key.
      int answered = r.getKeysRead() == 0 ? batch.size() : r.getKeysRead();
      if (answered > batch.size() || (answered == 0 && !batch.isEmpty())) {
        throw new UnavailableException(describe() + " answered for " + r.getKeysRead() + " of " + batch.size()
            + " keys");
      }
      out.addAll(r.getPropertiesList());
      int next = from + answered;
      return next < all.size() ? readFrom(all, next, out, deadline) : CompletableFuture.completedFuture(out);
    });
  }

  /**
   * Whole live properties matching the query on the given shards of each group, within
   * {@code deadline}: the first {@code query.limit} matches in the query's order, fetched page by
   * page while the node has more (it sends at most its byte budget per reply).
   */
  @Override
  public CompletableFuture<List<StoredProperty>> queryShards(QueryRequest query, Map<String, List<Integer>> shards,
      Deadline deadline) {
    return queryShardsTraced(query, shards, deadline).thenApply(ShardsReply::properties);
  }

  @Override
  public CompletableFuture<ShardsReply> queryShardsTraced(QueryRequest query, Map<String, List<Integer>> shards,
      Deadline deadline) {
    int want = QueryLimit.clamped(query.getLimit());
    QueryShardsRequest.Builder b = QueryShardsRequest.newBuilder();
    shards.forEach((g, s) -> b.putShards(g, ShardList.newBuilder().addAllShards(s).build()));
    List<Span> spans = new ArrayList<>();
    return page(query, b, want, ByteString.EMPTY, new ArrayList<>(), spans, deadline)
        .thenApply(out -> new ShardsReply(out.size() > want ? out.subList(0, want) : out, spans));
  }

  private CompletableFuture<List<StoredProperty>> page(QueryRequest query, QueryShardsRequest.Builder b, int want,
      ByteString token, List<StoredProperty> out, List<Span> spans, Deadline deadline) {
    QueryShardsRequest page = b.setQuery(query.toBuilder().setLimit(want - out.size())).setPageToken(token).build();
    return call(stub(deadline)::queryShards, page).thenCompose(r -> {
      if (r.getPropertiesCount() == 0 && !r.getNextPageToken().isEmpty()) {
        // Asking again would get the same answer: never loop on a node that makes no progress.
        throw new UnavailableException(describe() + " answered an empty page that says more follow");
      }
      out.addAll(r.getPropertiesList());
      spans.addAll(r.getSpansList());
      ByteString next = r.getNextPageToken();
      return !next.isEmpty() && out.size() < want ? page(query, b, want, next, out, spans, deadline)
          : CompletableFuture.completedFuture(out);
    });
  }

  @Override
  public CompletableFuture<dev.arbor.api.console.v1.TreeStatusResponse> treeStatus(
      dev.arbor.api.console.v1.TreeStatusRequest request, Deadline deadline) {
    return call(dev.arbor.api.console.v1.ConsoleStatusServiceGrpc.newStub(channel).withDeadline(deadline)::treeStatus,
        request);
  }

  @Override
  public void runRepair(dev.arbor.api.repair.v1.RunRepairRequest request,
      StreamObserver<dev.arbor.api.repair.v1.RepairProgress> events) {
    // No deadline of its own: every round has one, and the node ends the stream when the last ends.
    dev.arbor.api.repair.v1.RepairAdminServiceGrpc.newStub(channel).runRepair(request, events);
  }

  private DataNodeServiceGrpc.DataNodeServiceStub stub(Deadline deadline) {
    return DataNodeServiceGrpc.newStub(channel).withDeadline(deadline);
  }

  private String describe() {
    return "data node " + node.id() + " (" + node.grpcAddress() + ")";
  }

  /** One unary call; its future fails with the domain exception for the status the call ended with. */
  private <Q, R> CompletableFuture<R> call(BiConsumer<Q, StreamObserver<R>> method, Q request) {
    CompletableFuture<R> out = new CompletableFuture<>();
    PeerFutures.unary(method, request).whenComplete((r, t) -> {
      if (t == null) {
        out.complete(r);
      } else {
        out.completeExceptionally(failure(PeerFutures.cause(t)));
      }
    });
    return out;
  }

  private RuntimeException failure(Throwable t) {
    Status s = Status.fromThrowable(t);
    if (s.getCode() == Status.Code.UNAVAILABLE) {
      // Without this a node back from a long outage waits out gRPC's reconnect backoff (up to
      // two minutes); a refused connection on a LAN costs little to retry.
      channel.resetConnectBackoff();
    }
    String why = s.getDescription() == null ? s.getCode().name() : s.getDescription();
    return switch (s.getCode()) {
      // The node's own rejections reach the user as they are: they name the request field.
      case INVALID_ARGUMENT -> new InvalidArgumentException(why);
      case NOT_FOUND -> new NotFoundException(why);
      case DEADLINE_EXCEEDED -> new UnavailableException(
          describe() + " did not answer within " + timeout.toMillis() + " ms", t);
      default -> new UnavailableException(describe() + " failed: " + s.getCode() + " " + why, t);
    };
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
