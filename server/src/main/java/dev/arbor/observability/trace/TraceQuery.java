package dev.arbor.observability.trace;

import dev.arbor.api.repair.v1.RepairAdminServiceGrpc;
import dev.arbor.api.repair.v1.Span;
import dev.arbor.api.repair.v1.TracesRequest;
import dev.arbor.api.repair.v1.TracesResponse;
import dev.arbor.cluster.DataNode;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.UnavailableException;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import dev.arbor.transport.ChannelFactory;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers {@code RepairAdminService.Traces}: this node's spans and, for a cluster-wide request,
 * those of every other data node (asked in parallel, each with a deadline), merged into one
 * list without duplicates, earliest first. A node that does not answer costs only its own spans:
 * it is listed in {@code unreachable_nodes}.
 */
public final class TraceQuery implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TraceQuery.class);

  /** Spans returned when the request sets no limit. */
  public static final int DEFAULT_LIMIT = 1000;

  /** Upper bound of {@code limit}: keeps one answer well below gRPC's message size limits. */
  public static final int MAX_LIMIT = 10_000;

  public static final Duration DEFAULT_PEER_DEADLINE = Duration.ofSeconds(5);

  private static final int MAX_INBOUND_BYTES = 64 << 20;
  private static final Comparator<Span> START_ORDER =
      Comparator.comparingLong(Span::getStartUnixNanos)
          .thenComparing(Span::getNodeId)
          .thenComparing(Span::getSpanId);

  private final String selfNodeId;
  private final SpanSource local;
  private final Supplier<List<DataNode>> dataNodes;
  private final Duration peerDeadline;
  private final ChannelFactory channelFactory;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /**
   * @param selfNodeId this node's id; excluded from the peers asked (a liaison passes its own id)
   * @param local this node's spans ({@link SpanSource#NONE} where none are kept)
   * @param dataNodes the registered data nodes, read at every cluster-wide request
   * @param peerDeadline how long one peer may take to answer
   */
  public TraceQuery(
      String selfNodeId, SpanSource local, Supplier<List<DataNode>> dataNodes, Duration peerDeadline) {
    this(selfNodeId, local, dataNodes, peerDeadline, ChannelFactory.plaintext());
  }

  /** As above, the channels to peers built by {@code channelFactory}. */
  public TraceQuery(String selfNodeId, SpanSource local, Supplier<List<DataNode>> dataNodes, Duration peerDeadline,
      ChannelFactory channelFactory) {
    this.channelFactory = channelFactory;
    this.selfNodeId = selfNodeId;
    this.local = local;
    this.dataNodes = dataNodes;
    this.peerDeadline = peerDeadline;
  }

  /** Same, with {@link #DEFAULT_PEER_DEADLINE}. */
  public TraceQuery(String selfNodeId, SpanSource local, Supplier<List<DataNode>> dataNodes) {
    this(selfNodeId, local, dataNodes, DEFAULT_PEER_DEADLINE);
  }

  /**
   * Answers one request.
   *
   * @throws InvalidArgumentException when a field is out of range (the message names it)
   */
  public TracesResponse query(TracesRequest request) {
    int limit = effectiveLimit(request.getLimit());
    SpanQuery spanQuery =
        new SpanQuery(request.getGroup(), sinceNanos(request.getSinceUnixMs()), request.getTraceId(), limit);
    // Peers are asked first so their answers arrive while the local index is read.
    List<PeerCall> calls = request.getClusterWide()
        ? askPeers(request.toBuilder().setClusterWide(false).setLimit(limit).build())
        : List.of();

    Map<SpanKey, Span> merged = new LinkedHashMap<>();
    for (RepairSpan s : local.query(spanQuery)) {
      merged.putIfAbsent(new SpanKey(s.traceId(), s.spanId()), SpanProtos.toProto(s));
    }
    TracesResponse.Builder out = TracesResponse.newBuilder();
    for (PeerCall call : calls) {
      List<Span> spans = call.await();
      if (spans == null) {
        out.addUnreachableNodes(call.node().id().value());
        continue;
      }
      for (Span s : spans) {
        merged.putIfAbsent(new SpanKey(s.getTraceId(), s.getSpanId()), s);
      }
    }
    merged.values().stream().sorted(START_ORDER).limit(limit).forEach(out::addSpans);
    return out.build();
  }

  private static int effectiveLimit(int rawLimit) {
    long limit = Integer.toUnsignedLong(rawLimit);
    if (limit > MAX_LIMIT) {
      throw new InvalidArgumentException("limit must be <= " + MAX_LIMIT + ", got " + limit);
    }
    return limit == 0 ? DEFAULT_LIMIT : (int) limit;
  }

  private static long sinceNanos(long sinceUnixMs) {
    if (sinceUnixMs < 0) {
      throw new InvalidArgumentException("since_unix_ms must be >= 0, got " + sinceUnixMs);
    }
    if (sinceUnixMs > Long.MAX_VALUE / 1_000_000L) {
      throw new InvalidArgumentException("since_unix_ms is too large: " + sinceUnixMs);
    }
    return sinceUnixMs * 1_000_000L;
  }

  private List<PeerCall> askPeers(TracesRequest request) {
    if (closed) {
      throw new UnavailableException("trace queries are closed (node shutting down)");
    }
    Map<String, DataNode> peers = new LinkedHashMap<>();
    for (DataNode n : dataNodes.get()) {
      if (!n.id().value().equals(selfNodeId)) {
        peers.putIfAbsent(n.id().value(), n);
      }
    }
    List<PeerCall> calls = new ArrayList<>(peers.size());
    for (DataNode n : peers.values()) {
      ManagedChannel ch = channel(n.grpcAddress());
      CompletableFuture<TracesResponse> f = new CompletableFuture<>();
      RepairAdminServiceGrpc.newStub(ch)
          .withDeadlineAfter(peerDeadline.toMillis(), TimeUnit.MILLISECONDS)
          .traces(request, completing(f));
      calls.add(new PeerCall(n, ch, f, peerDeadline));
    }
    return calls;
  }

  private static StreamObserver<TracesResponse> completing(CompletableFuture<TracesResponse> f) {
    return new StreamObserver<>() {
      @Override
      public void onNext(TracesResponse value) {
        f.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        f.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        f.completeExceptionally(Status.INTERNAL.withDescription("no answer").asRuntimeException());
      }
    };
  }

  private ManagedChannel channel(String address) {
    return channels.computeIfAbsent(address, a -> channelFactory.open(a, MAX_INBOUND_BYTES));
  }

  /** Closes the channels to the peers. */
  @Override
  public void close() {
    closed = true;
    channels.values().forEach(ManagedChannel::shutdownNow);
    for (ManagedChannel ch : channels.values()) {
      try {
        ch.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    channels.clear();
  }

  private record SpanKey(String traceId, String spanId) {}

  /** One peer's pending answer. */
  private record PeerCall(
      DataNode node, ManagedChannel channel, CompletableFuture<TracesResponse> future, Duration deadline) {

    /** The peer's spans, or null when it failed or did not answer in time. */
    List<Span> await() {
      try {
        // The call's own deadline ends it; the extra second only guards against a lost callback.
        return future.get(deadline.toMillis() + 1000, TimeUnit.MILLISECONDS).getSpansList();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new UnavailableException("interrupted while gathering traces");
      } catch (ExecutionException | TimeoutException e) {
        Status status = e instanceof TimeoutException
            ? Status.DEADLINE_EXCEEDED.withDescription("no answer within the deadline")
            : Status.fromThrowable(e.getCause());
        if (status.getCode() == Status.Code.UNAVAILABLE) {
          // Otherwise a node back from an outage waits out gRPC's reconnect backoff.
          channel.resetConnectBackoff();
        }
        LOG.warn("traces: data node {} ({}) did not answer: {}{}{}", node.id(), node.grpcAddress(),
            status.getCode(),
            status.getDescription() == null ? "" : " " + status.getDescription(),
            status.getCause() == null || status.getCause().getMessage() == null
                ? "" : " (" + status.getCause().getMessage() + ")");
        return null;
      }
    }
  }
}
