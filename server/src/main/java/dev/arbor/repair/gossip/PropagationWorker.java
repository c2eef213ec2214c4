package dev.arbor.repair.gossip;

import dev.arbor.api.repair.v1.HopResult;
import dev.arbor.api.repair.v1.PropagationContext;
import dev.arbor.api.repair.v1.PropagationRequest;
import dev.arbor.api.repair.v1.PropagationResponse;
import dev.arbor.api.repair.v1.RoundOutcome;
import dev.arbor.api.repair.v1.RoundReport;
import dev.arbor.api.repair.v1.TraceContext;
import dev.arbor.observability.trace.Tracer;
import dev.arbor.repair.sync.SessionFigures;
import dev.arbor.runtime.NodeRuntime;
import dev.arbor.runtime.Ticker;
import dev.arbor.runtime.WallClock;
import dev.arbor.repair.sync.SyncFailedException;
import dev.arbor.transport.PeerFutures;
import io.grpc.Context;
import io.grpc.Deadline;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The workers of a node's gossip queue (spec §7.4; upstream has one, we run rounds of different
 * shards in parallel, never two of one shard): for each request, repairs with the
 * next reachable node of the ring after itself, reports the hop to the round's origin, and either
 * ends the round (budget of 2n−3 successful hops spent, deadline passed, no peer could be
 * repaired with, or a failure that aborts) or forwards it to the node it just repaired with.
 * Shutdown cancels the running session through its gRPC context (never by interrupting storage
 * I/O) and reports every round left behind as aborted.
 */
public final class PropagationWorker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PropagationWorker.class);

  private final String self;
  private final PropagationQueue queue;
  private final HopRunner hops;
  private final GossipPeers peers;
  private final Tracer tracer;
  private final GossipObserver observer;
  private final Consumer<RoundReport> localReports;
  private final Duration sessionTimeout;
  private final Ticker ticker;
  private final WallClock wallClock;
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean closed;
  private final java.util.Set<Context.CancellableContext> running = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * @param localReports receives reports of rounds this node originated
   * @param sessionTimeout upper bound of one two-node session (the round deadline may cut it shorter)
   */
  public PropagationWorker(String self, PropagationQueue queue, HopRunner hops, GossipPeers peers, Tracer tracer,
      GossipObserver observer, Consumer<RoundReport> localReports, Duration sessionTimeout) {
    this(self, queue, hops, peers, tracer, observer, localReports, sessionTimeout, 1);
  }

  /**
   * @param workers rounds of different shards handled at once (never two of one shard)
   */
  public PropagationWorker(String self, PropagationQueue queue, HopRunner hops, GossipPeers peers, Tracer tracer,
      GossipObserver observer, Consumer<RoundReport> localReports, Duration sessionTimeout, int workers) {
    this(NodeRuntime.system(), self, queue, hops, peers, tracer, observer, localReports, sessionTimeout, workers);
  }

  /**
   * @param runtime the node's clocks (round deadlines, hop timings) and its worker threads
   * @param workers rounds of different shards handled at once (never two of one shard)
   */
  public PropagationWorker(NodeRuntime runtime, String self, PropagationQueue queue, HopRunner hops,
      GossipPeers peers, Tracer tracer, GossipObserver observer, Consumer<RoundReport> localReports,
      Duration sessionTimeout, int workers) {
    if (workers < 1) {
      throw new IllegalArgumentException("workers must be >= 1");
    }
    this.self = self;
    this.queue = queue;
    this.hops = hops;
    this.peers = peers;
    this.tracer = tracer;
    this.observer = observer;
    this.localReports = localReports;
    this.sessionTimeout = sessionTimeout;
    this.ticker = runtime.ticker();
    this.wallClock = runtime.wallClock();
    for (int i = 0; i < workers; i++) {
      threads.add(runtime.newThread("arbor-gossip-worker-" + i, this::loop));
    }
  }

  public void start() {
    threads.forEach(Thread::start);
  }

  /**
   * Handles one waiting round on the caller's thread, if there is one: a worker thread's turn of
   * its loop. The deterministic simulation calls this instead of {@link #start}, so the hops of
   * every node run in the order its seed decides.
   *
   * @return whether a round was handled
   */
  public boolean runOne() {
    Optional<PropagationRequest> r;
    try {
      r = queue.take(Duration.ZERO);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
    if (r.isEmpty()) {
      return false;
    }
    try {
      handle(r.get());
    } finally {
      queue.release(r.get());
    }
    return true;
  }

  private void loop() {
    while (!closed) {
      try {
        Optional<PropagationRequest> r = queue.take(Duration.ofSeconds(1));
        if (r.isPresent() && !closed) {
          try {
            handle(r.get());
          } finally {
            queue.release(r.get());
          }
        } else if (r.isPresent()) {
          report(r.get(), null, RoundOutcomes.of(RoundOutcomes.ABORTED, "node " + self + " is shutting down",
              r.get().getContext().getCurrentPropagationCount(), r.get().getContext().getMaxPropagationCount(), self));
        }
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        LOG.error("gossip worker failed on a request; continuing", e);
      }
    }
  }

  void handle(PropagationRequest req) {
    long t0 = ticker.read();
    PropagationContext ctx = req.getContext();
    String group = req.getGroup();
    int shard = req.getShard();
    int current = ctx.getCurrentPropagationCount();
    int max = ctx.getMaxPropagationCount();
    String traceId = req.getTrace().getTraceId();
    Tracer.Span span = tracer.start(traceId, req.getTrace().getParentSpanId(), "handling gossip message", group,
        shard, current).tag("operate_type", "handle_gossip").tag("nodes_count", ctx.getNodesCount())
        .tag("round_id", ctx.getRoundId());
    List<String> nodes = ctx.getNodesList();
    int i = nodes.indexOf(self);
    if (i < 0) {
      end(req, span, null, RoundOutcomes.FAILED, "node " + self + " is not in the round's ring " + nodes, current, t0);
      return;
    }
    if (wallClock.millis() >= ctx.getDeadlineUnixMs()) {
      end(req, span, null, RoundOutcomes.ABORTED, "round deadline passed before hop " + (current + 1), current, t0);
      return;
    }
    HopResult hop = null;
    String peer = null;
    String peerAddress = null;
    List<String> skipped = new ArrayList<>();
    for (int off = 1; off < nodes.size() && hop == null; off++) {
      String cand = nodes.get((i + off) % nodes.size());
      Optional<String> addr = peers.address(cand);
      if (addr.isEmpty()) {
        skipped.add(cand + ": not registered");
        continue;
      }
      Tracer.Span sync = tracer.start(traceId, span.spanId(), "sync properties", group, shard, current)
          .tag("operate_type", "start_sync").tag("target_node", cand);
      try {
        SessionFigures f = runSession(cand, addr.get(), req, TraceContext.newBuilder().setTraceId(traceId)
            .setParentSpanId(sync.spanId()).build(), ctx.getDeadlineUnixMs());
        sync.tag("root_match", f.rootMatch()).tag("slots_differing", f.slotsDiffering())
            .tag("leaves_compared", f.leavesCompared()).tag("repaired_to_server", f.repairedToServer())
            .tag("repaired_to_client", f.repairedToClient()).tag("bytes_sent", f.bytesSent())
            .tag("bulk_files", f.bulk().files()).tag("bulk_bytes", f.bulk().bytes())
            .tag("bytes_received", f.bytesReceived()).end();
        hop = hopResult(cand, f, skipped);
        peer = cand;
        peerAddress = addr.get();
      } catch (SyncFailedException e) {
        sync.fail(e.getMessage());
        if (closed) {
          end(req, span, failedHop(cand, e.getMessage(), skipped), RoundOutcomes.ABORTED,
              "node " + self + " is shutting down", current, t0);
          return;
        }
        if (wallClock.millis() >= ctx.getDeadlineUnixMs()) {
          // Every further candidate would fail at once; the round ran out of time (ABORTED).
          end(req, span, failedHop(cand, e.getMessage(), skipped), RoundOutcomes.ABORTED,
              "round deadline passed during hop " + (current + 1) + " with " + cand + ": " + e.getMessage(),
              current, t0);
          return;
        }
        if (e.abortsRound()) {
          end(req, span, failedHop(cand, e.getMessage(), skipped), RoundOutcomes.FAILED,
              "round aborted on " + self + ": " + e.getMessage(), current, t0);
          return;
        }
        LOG.info("repair of {}/{} with {} failed, trying the next node: {}", group, shard, cand, e.getMessage());
        skipped.add(cand + ": " + e.getMessage());
      }
    }
    if (hop == null) {
      String why = "no node of the ring could be repaired with from " + self + ": " + String.join("; ", skipped);
      HopResult failed = skipped.isEmpty() ? null
          : failedHop(skipped.get(skipped.size() - 1).split(":", 2)[0], why, skipped);
      end(req, span, failed, RoundOutcomes.FAILED, why, current, t0);
      return;
    }
    int done = current + 1;
    report(req, hop, null);
    if (done >= max) {
      end(req, span, null, RoundOutcomes.COMPLETED, done + " of " + max + " hops done", done, t0);
      return;
    }
    if (closed) {
      end(req, span, null, RoundOutcomes.ABORTED, "node " + self + " is shutting down", done, t0);
      return;
    }
    PropagationRequest next = req.toBuilder()
        .setContext(ctx.toBuilder().setCurrentPropagationCount(done))
        .setTrace(TraceContext.newBuilder().setTraceId(traceId).setParentSpanId(span.spanId()))
        .build();
    long f0 = ticker.read();
    Tracer.Span fwd = tracer.start(traceId, span.spanId(), "propagation to next node", group, shard, done)
        .tag("operate_type", "send_to_next_node").tag("target_node", peer);
    try {
      // A worker thread hands one round on at a time: it waits for the next node here.
      PropagationResponse resp = PeerFutures.await(peers.propagate(peerAddress, next));
      observer.forwarded(group, true, ticker.read() - f0);
      if (!resp.getAccepted()) {
        fwd.fail(resp.getReason());
        end(req, span, null, RoundOutcomes.SKIPPED, peer + " did not take the round: " + resp.getReason(), done, t0);
        return;
      }
      fwd.end();
      observer.handled(group, shard, true, ticker.read() - t0);
      span.tag("next_node", peer).end();
    } catch (RuntimeException e) {
      observer.forwarded(group, false, ticker.read() - f0);
      fwd.fail(String.valueOf(e.getMessage()));
      end(req, span, null, RoundOutcomes.FAILED, "forwarding the round to " + peer + " failed: " + e.getMessage(),
          done, t0);
    }
  }

  private SessionFigures runSession(String peer, String address, PropagationRequest req, TraceContext trace,
      long roundDeadlineMs) {
    long leftMs = Math.max(1, roundDeadlineMs - wallClock.millis());
    Deadline d = Deadline.after(Math.min(leftMs, sessionTimeout.toMillis()), TimeUnit.MILLISECONDS);
    Context.CancellableContext c = Context.current().withCancellation();
    running.add(c);
    try {
      if (closed) {
        throw new SyncFailedException("node " + self + " is shutting down", true, null);
      }
      return c.call(() -> hops.sync(peer, address, req.getGroup(), req.getShard(), trace, d));
    } catch (SyncFailedException e) {
      throw e;
    } catch (Exception e) {
      throw new SyncFailedException("repair with " + peer + " failed: " + e, false, e);
    } finally {
      running.remove(c);
      c.cancel(null);
    }
  }

  private static HopResult hopResult(String peer, SessionFigures f, List<String> skipped) {
    return HopResult.newBuilder().setServerNode(peer).setSuccess(true).setRootMatch(f.rootMatch())
        .setSlotsDiffering(f.slotsDiffering()).setLeavesCompared(f.leavesCompared())
        .setRepairedToServer(f.repairedToServer()).setRepairedToClient(f.repairedToClient())
        .setBytesSent(f.bytesSent()).setBytesReceived(f.bytesReceived())
        .setDurationMs(f.durationNanos() / 1e6).addAllSkipped(skipped)
        .setBulkFiles(f.bulk().files()).setBulkBytes(f.bulk().bytes()).setBulkDocuments(f.bulk().documents())
        .setRecordBytes(f.recordBytes()).setProtocol(f.protocol()).build();
  }

  private static HopResult failedHop(String peer, String error, List<String> skipped) {
    return HopResult.newBuilder().setServerNode(peer).setSuccess(false).setError(error).addAllSkipped(skipped)
        .build();
  }

  private void end(PropagationRequest req, Tracer.Span span, HopResult hop, String status, String message, int count,
      long t0) {
    RoundOutcome o = RoundOutcomes.of(status, message, count, req.getContext().getMaxPropagationCount(), self);
    boolean ok = status.equals(RoundOutcomes.COMPLETED);
    span.tag("outcome", status);
    if (ok) {
      span.end();
    } else {
      span.fail(message);
    }
    observer.handled(req.getGroup(), req.getShard(), ok, ticker.read() - t0);
    observer.roundEnded(req.getGroup(), originLabel(req.getContext().getOriginNode()), o);
    report(req, hop, o);
  }

  /**
   * The origin as a metric label: this node or a registered one, else "unregistered". The origin
   * comes from the request, and a series per made-up name would be kept for the process's life.
   */
  private String originLabel(String origin) {
    if (origin.equals(self)) {
      return origin;
    }
    try {
      return peers.address(origin).isPresent() ? origin : "unregistered";
    } catch (RuntimeException membershipUnknown) {
      return "unregistered";
    }
  }

  /** Sends a hop and/or an outcome to the round's origin; a lost report is logged, never fatal. */
  void report(PropagationRequest req, HopResult hop, RoundOutcome outcome) {
    RoundReport.Builder b = RoundReport.newBuilder().setRoundId(req.getContext().getRoundId())
        .setGroup(req.getGroup()).setShard(req.getShard());
    if (hop != null) {
      b.setHop(hop.toBuilder().setClientNode(self));
    }
    if (outcome != null) {
      b.setOutcome(outcome);
    }
    RoundReport r = b.build();
    String origin = req.getContext().getOriginNode();
    if (origin.equals(self)) {
      localReports.accept(r);
      return;
    }
    try {
      Optional<String> addr = peers.address(origin);
      if (addr.isEmpty()) {
        LOG.warn("origin {} of round {} is not registered; its report is dropped", origin, r.getRoundId());
        return;
      }
      // Waited for, so the origin has a hop's report before the next node can report the outcome.
      PeerFutures.await(peers.report(addr.get(), r));
    } catch (RuntimeException e) {
      LOG.warn("reporting round {} to its origin {} failed: {}", r.getRoundId(), origin, e.getMessage());
    }
  }

  /** Stops the worker: cancels a running session and reports queued rounds as aborted. */
  @Override
  public void close() {
    closed = true;
    running.forEach(c -> c.cancel(null));
    for (PropagationRequest left : queue.close()) {
      report(left, null, RoundOutcomes.of(RoundOutcomes.ABORTED, "node " + self + " shut down before handling it",
          left.getContext().getCurrentPropagationCount(), left.getContext().getMaxPropagationCount(), self));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    for (Thread t : threads) {
      try {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
