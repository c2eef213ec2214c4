package dev.arbor.liaison;

import dev.arbor.runtime.NodeRuntime;
import java.util.concurrent.ExecutorService;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.DataNodeCalls;
import dev.arbor.cluster.DataNodes;
import dev.arbor.cluster.WriteReply;
import dev.arbor.errors.ArborException;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.errors.ResourceExhaustedException;
import dev.arbor.errors.UnavailableException;
import dev.arbor.transport.PeerFutures;
import dev.arbor.transport.Slots;
import io.grpc.Deadline;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Calls several data nodes in parallel and collects, per node, an answer or the failure.
 * Bounded ({@link ReplicaCallLimits}): a request's calls are admitted all or none, and when they do
 * not fit the request is refused RESOURCE_EXHAUSTED before anything is sent, so a slow node makes
 * callers back off instead of piling up calls without bound. Each call's deadline is taken when it
 * is queued: one that waited for a thread past it fails without being sent, so this never waits
 * much longer than one deadline either. Writes and reads of single keys ({@link #write},
 * {@link #read}) wait in a per-node {@link BatchLane} instead of taking a thread each, and
 * concurrent callers share one call to the node; they hold their slots while they wait, so the
 * same bound covers them.
 */
final class ReplicaCalls implements AutoCloseable {
  /** One call to a node, to be made within {@code deadline}; its future fails with the node's (domain) exception. */
  @FunctionalInterface
  interface Call<T> {
    CompletableFuture<T> call(DataNodeCalls client, Deadline deadline);
  }

  private final DataNodes nodes;
  private final ReplicaCallLimits limits;
  private final Slots slots;
  private final ExecutorService pool;
  private final AtomicLong expired = new AtomicLong();
  private final AtomicLong batchCalls = new AtomicLong();
  private final AtomicLong batchCallers = new AtomicLong();
  private final java.util.concurrent.ConcurrentHashMap<LaneKey, BatchLane<?, ?>> lanes =
      new java.util.concurrent.ConcurrentHashMap<>();

  ReplicaCalls(DataNodes nodes, ReplicaCallLimits limits) {
    this(NodeRuntime.system(), nodes, limits);
  }

  /** @param runtime makes the pool's threads (named {@code arbor-replica-call-N}) */
  ReplicaCalls(NodeRuntime runtime, DataNodes nodes, ReplicaCallLimits limits) {
    this.nodes = nodes;
    this.limits = limits;
    this.slots = new Slots(limits.capacity());
    // Not a bound of its own: the slots admit at most capacity() calls, each a task or a caller
    // waiting in a lane, plus at most one drain task per lane (which may outlive its callers by a
    // moment), so this queue never grows past that and must never refuse a task.
    this.pool = runtime.newExecutor("arbor-replica-call", limits.threads(), Integer.MAX_VALUE);
  }

  DataNodes nodes() {
    return nodes;
  }

  /** One node's outcome: exactly one of value and failure is set. */
  record Answer<T>(DataNode node, T value, RuntimeException failure) {
    boolean ok() {
      return failure == null;
    }
  }

  <T> List<Answer<T>> onEach(List<DataNode> targets, Call<T> call) {
    if (targets.isEmpty()) {
      return List.of();
    }
    if (!slots.tryTake(targets.size())) {
      throw busy(targets.size());
    }
    Deadline deadline = nodes.callDeadline();
    Map<DataNode, CompletableFuture<T>> futures = new LinkedHashMap<>();
    for (DataNode n : targets) {
      Task<T> task = new Task<>(n, call, deadline);
      futures.put(n, task.result);
      try {
        pool.execute(task);
      } catch (RejectedExecutionException e) {
        task.abandon();
      }
    }
    return collect(futures, null);
  }

  /**
   * Writes the same records to each target, batched per node with other callers' writes
   * ({@link BatchLane}): each answer is what that node did with these records.
   *
   * @param fresh the records were stamped for this call (see {@code WriteRequest.fresh})
   */
  List<Answer<WriteReply>> write(List<DataNode> targets, List<StoredProperty> records, boolean fresh) {
    return batched(targets, n -> lane(n, fresh ? Kind.WRITE_FRESH : Kind.WRITE_COPY), List.copyOf(records));
  }

  /** Reads the same keys from each target, batched per node with other callers' reads. */
  List<Answer<List<StoredProperty>>> read(List<DataNode> targets, List<Key> keys) {
    return batched(targets, n -> lane(n, Kind.READ), List.copyOf(keys));
  }

  /** Admitted all or none, like {@link #onEach}: each waiting caller holds one slot per node. */
  private <I, R> List<Answer<R>> batched(
      List<DataNode> targets, java.util.function.Function<DataNode, BatchLane<I, R>> laneOf, I share) {
    if (targets.isEmpty()) {
      return List.of();
    }
    if (!slots.tryTake(targets.size())) {
      throw busy(targets.size());
    }
    Deadline deadline = nodes.callDeadline();
    Map<DataNode, CompletableFuture<R>> futures = new LinkedHashMap<>();
    for (DataNode n : targets) {
      // The slot is freed before the caller sees the answer: its next call must find it free.
      futures.put(n, laneOf.apply(n).submit(share, deadline, () -> slots.release(1)));
    }
    return collect(futures, deadline);
  }

  /** Which calls share a lane: Writes carry one fresh flag for all their records. */
  private enum Kind { READ, WRITE_FRESH, WRITE_COPY }

  private record LaneKey(DataNode node, Kind kind) {}

  @SuppressWarnings("unchecked")
  private <I, R> BatchLane<I, R> lane(DataNode node, Kind kind) {
    return (BatchLane<I, R>) lanes.computeIfAbsent(new LaneKey(node, kind), k -> switch (kind) {
      case READ -> new BatchLane<>(node, new ReadBatchSender(), laneContext, pool, limits);
      case WRITE_FRESH -> new BatchLane<>(node, new WriteBatchSender(true), laneContext, pool, limits);
      case WRITE_COPY -> new BatchLane<>(node, new WriteBatchSender(false), laneContext, pool, limits);
    });
  }

  private final BatchLane.Context laneContext = new BatchLane.Context() {
    @Override
    public DataNodeCalls client(DataNode node) {
      return nodes.client(node.id());
    }

    @Override
    public RuntimeException notSent(DataNode node) {
      return expiredInQueue(node);
    }

    @Override
    public RuntimeException closing() {
      return new UnavailableException("the liaison is shutting down");
    }

    @Override
    public void sent(int callers) {
      batchCalls.incrementAndGet();
      batchCallers.addAndGet(callers);
    }
  };

  /**
   * Each node's answer. With a {@code deadline}, a node whose answer has not come by then counts as
   * failed (a batched call may run a little longer, for the later callers it carries).
   */
  private <T> List<Answer<T>> collect(Map<DataNode, CompletableFuture<T>> futures, Deadline deadline) {
    List<Answer<T>> out = new ArrayList<>(futures.size());
    futures.forEach((n, f) -> {
      try {
        T value = deadline == null ? f.join() : f.get(Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS)),
            TimeUnit.NANOSECONDS);
        out.add(new Answer<>(n, value, null));
      } catch (CompletionException | ExecutionException e) {
        Throwable cause = e.getCause();
        out.add(new Answer<>(n, null, cause instanceof RuntimeException r ? r : new RuntimeException(cause)));
      } catch (TimeoutException e) {
        out.add(new Answer<>(n, null, new UnavailableException("data node " + n.id() + " (" + n.grpcAddress()
            + ") did not answer within " + nodes.callTimeout().toMillis() + " ms (--node-timeout)")));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        out.add(new Answer<>(n, null, new UnavailableException("interrupted while waiting for data node " + n.id())));
      }
    });
    // A rejection by every node is the caller's error (bad request); a rejection by some nodes
    // only is a node lagging behind the metadata, and counts as that node's failure.
    if (out.stream().allMatch(a -> isRejection(a.failure()))) {
      throw (ArborException) out.get(0).failure();
    }
    return out;
  }

  /** One queued call; answers its future exactly once, and frees its slot first. */
  private final class Task<T> implements Runnable {
    final CompletableFuture<T> result = new CompletableFuture<>();
    private final DataNode node;
    private final Call<T> call;
    private final Deadline deadline;

    Task(DataNode node, Call<T> call, Deadline deadline) {
      this.node = node;
      this.call = call;
      this.deadline = deadline;
    }

    @Override
    public void run() {
      T value = null;
      Throwable failure = null;
      try {
        if (deadline.isExpired()) {
          // Its caller has given up on it, or is about to: sending it would only add load.
          throw expiredInQueue(node);
        }
        // Holds its thread until the node answers: --replica-call-threads bounds these calls.
        value = PeerFutures.await(call.call(nodes.client(node.id()), deadline));
      } catch (Throwable t) {
        failure = t;
      } finally {
        // Before the caller sees the answer: its next call must find this slot free again.
        slots.release(1);
      }
      if (failure == null) {
        result.complete(value);
      } else {
        result.completeExceptionally(failure);
      }
    }

    /** Never run (the liaison is closing): the caller must not wait for it. */
    void abandon() {
      slots.release(1);
      result.completeExceptionally(new UnavailableException("the liaison is shutting down"));
    }
  }

  /** Counts a call that waited past its deadline, and says why it was not sent. */
  private UnavailableException expiredInQueue(DataNode node) {
    expired.incrementAndGet();
    return new UnavailableException("call to data node " + node.id() + " (" + node.grpcAddress() + ") not sent:"
        + " it waited for a free --replica-call-threads thread or its data node's batch past its deadline"
        + " (--node-timeout " + nodes.callTimeout().toMillis() + " ms)");
  }

  private ResourceExhaustedException busy(int wanted) {
    if (wanted > slots.capacity()) {
      return new ResourceExhaustedException("this request needs " + wanted + " calls to data nodes at once, more than"
          + " --replica-call-threads plus --replica-call-queue (" + slots.capacity() + ") allow");
    }
    return new ResourceExhaustedException("liaison busy: " + slots.inUse() + " calls to data nodes are running or"
        + " queued (--replica-call-threads " + limits.threads() + ", --replica-call-queue " + limits.queue()
        + "); retry with backoff");
  }

  private static boolean isRejection(RuntimeException e) {
    return e instanceof InvalidArgumentException || e instanceof NotFoundException;
  }

  /** Each failed node and why: unreachable, or what it answered (a shard out of service, say). */
  static String describeFailures(List<? extends Answer<?>> answers) {
    List<String> parts = new ArrayList<>();
    for (Answer<?> a : answers) {
      if (!a.ok()) {
        String node = a.node().id() + " (" + a.node().grpcAddress() + ")";
        String why = String.valueOf(a.failure().getMessage());
        // The node client's own messages already name the node.
        parts.add(why.contains(node) ? why : node + ": " + why);
      }
    }
    return String.join("; ", parts);
  }

  /** Calls running or queued now. */
  int pending() {
    return slots.inUse();
  }

  /** Requests refused because their calls did not fit, since start. */
  long refused() {
    return slots.refused();
  }

  /** Calls not sent because their deadline passed while they were queued, since start. */
  long expired() {
    return expired.get();
  }

  /** Batched Writes and Reads sent to data nodes, since start. */
  long batchCalls() {
    return batchCalls.get();
  }

  /** Callers those batched calls carried (over {@link #batchCalls()}: the mean batch), since start. */
  long batchCallers() {
    return batchCallers.get();
  }

  @Override
  public void close() {
    for (Runnable queued : pool.shutdownNow()) {
      if (queued instanceof Task<?> t) {
        t.abandon();
      } else if (queued instanceof BatchLane<?, ?>.Drain d) {
        d.abandon();
      }
    }
  }
}
