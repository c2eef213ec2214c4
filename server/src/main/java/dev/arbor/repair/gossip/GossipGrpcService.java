package dev.arbor.repair.gossip;

import dev.arbor.api.repair.v1.GossipServiceGrpc;
import dev.arbor.api.repair.v1.PropagationRequest;
import dev.arbor.api.repair.v1.PropagationResponse;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.api.repair.v1.RoundReportAck;
import dev.arbor.errors.UnavailableException;
import dev.arbor.observability.trace.Tracer;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.function.Consumer;

/**
 * {@code arbor.repair.v1.GossipService}: {@code Propagate} only queues (answering at once whether
 * the round was taken); {@code Report} hands a round's progress to this node as its origin.
 */
public final class GossipGrpcService extends GossipServiceGrpc.GossipServiceImplBase {
  private final String self;
  private final PropagationQueue queue;
  private final PropagationWorker worker;
  private final Tracer tracer;
  private final GossipObserver observer;
  private final Consumer<RoundReport> reports;
  private final java.util.function.BiFunction<String, Integer, String> shardRefusal;

  public GossipGrpcService(String self, PropagationQueue queue, PropagationWorker worker, Tracer tracer,
      GossipObserver observer, Consumer<RoundReport> reports) {
    this(self, queue, worker, tracer, observer, reports, (group, shard) -> null);
  }

  /**
   * @param shardRefusal why this node takes no round of (group, shard) (an unknown group, a shard
   *     out of range), or null: checked before the round reaches the queue, a span or a metric,
   *     so a stream of rounds for made-up groups cannot grow either
   */
  public GossipGrpcService(String self, PropagationQueue queue, PropagationWorker worker, Tracer tracer,
      GossipObserver observer, Consumer<RoundReport> reports,
      java.util.function.BiFunction<String, Integer, String> shardRefusal) {
    this.shardRefusal = shardRefusal;
    this.self = self;
    this.queue = queue;
    this.worker = worker;
    this.tracer = tracer;
    this.observer = observer;
    this.reports = reports;
  }

  @Override
  public void propagate(PropagationRequest req, StreamObserver<PropagationResponse> out) {
    String problem = check(req);
    if (problem != null) {
      out.onError(Status.INVALID_ARGUMENT.withDescription(problem).asRuntimeException());
      return;
    }
    String refusal = shardRefusal.apply(req.getGroup(), req.getShard());
    if (refusal != null) {
      out.onError(Status.FAILED_PRECONDITION.withDescription(refusal).asRuntimeException());
      return;
    }
    PropagationResponse resp;
    try {
      resp = offer(req);
    } catch (UnavailableException e) {
      out.onError(Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException());
      return;
    }
    out.onNext(resp);
    out.onCompleted();
  }

  /**
   * Queues a round here (also used by this node to start its own rounds).
   *
   * @throws UnavailableException when this node's worker is closed (shutting down): the caller
   *     treats it like an unreachable node instead of a round silently never handled
   */
  public PropagationResponse offer(PropagationRequest req) {
    // Started before queueing: the worker may begin handling before offer() returns.
    Tracer.Span span = tracer.start(req.getTrace().getTraceId(), req.getTrace().getParentSpanId(),
        "receive gossip message", req.getGroup(), req.getShard(), req.getContext().getCurrentPropagationCount())
        .tag("operate_type", "receive_gossip");
    PropagationQueue.Offer o;
    try {
      o = queue.offer(req);
    } catch (IllegalStateException closed) {
      span.fail("node shutting down");
      throw new UnavailableException("node " + self + " is shutting down and takes no more rounds");
    }
    observer.received(req.getGroup(), o.decision());
    span.tag("decision", o.decision());
    if (o.decision() == PropagationQueue.Decision.REJECTED) {
      String why = "a round of " + req.getGroup() + "/" + req.getShard() + " from " + o.currentOrigin()
          + " is in progress on " + self;
      span.fail(why);
      return PropagationResponse.newBuilder().setAccepted(false).setReason(why).build();
    }
    span.end();
    if (o.replaced() != null) {
      PropagationRequest old = o.replaced();
      worker.report(old, null, RoundOutcomes.of(RoundOutcomes.SUPERSEDED,
          "replaced by round " + req.getContext().getRoundId() + " before " + self + " handled it",
          old.getContext().getCurrentPropagationCount(), old.getContext().getMaxPropagationCount(), self));
    }
    return PropagationResponse.newBuilder().setAccepted(true).build();
  }

  private static String check(PropagationRequest req) {
    var c = req.getContext();
    if (req.getGroup().isEmpty()) {
      return "group must not be empty";
    }
    if (c.getNodesCount() < 2 || c.getNodesList().stream().distinct().count() != c.getNodesCount()) {
      return "context.nodes must list at least 2 distinct nodes";
    }
    if (c.getMaxPropagationCount() < 1 || c.getCurrentPropagationCount() < 0) {
      return "context.max_propagation_count must be > 0 and current_propagation_count >= 0";
    }
    if (c.getOriginNode().isEmpty() || c.getRoundId().isEmpty()) {
      return "context.origin_node and context.round_id must not be empty";
    }
    return null;
  }

  @Override
  public void report(RoundReport r, StreamObserver<RoundReportAck> out) {
    if (r.hasOutcome() && !RoundOutcomes.ALL.contains(r.getOutcome().getStatus())) {
      // The status ends the round and labels its metrics: one not in the protocol would do both
      // with whatever a peer sent.
      out.onError(Status.INVALID_ARGUMENT.withDescription("outcome.status must be one of "
          + new java.util.TreeSet<>(RoundOutcomes.ALL) + ", got '" + r.getOutcome().getStatus() + "'")
          .asRuntimeException());
      return;
    }
    reports.accept(r);
    out.onNext(RoundReportAck.getDefaultInstance());
    out.onCompleted();
  }
}
