package dev.arbor.liaison;

import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.DataNodeCalls;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.transport.PeerFutures;
import io.grpc.Deadline;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The calls of one kind (a Write, or a Read) to one data node, coalesced: callers that arrive
 * while a call to the node is in flight wait, and travel together in the next one, up to the
 * batch bounds. At most one call per lane is in flight, so under load the batch grows with the
 * round trip (group commit: one WAL frame and one fsync on the node for every caller in it), and
 * with nothing in flight a caller is sent at once (after the optional linger). Each caller gets
 * its own share of the answer; a failed call fails each of its callers with the node's error. The
 * lane holds no bound of its own: every waiting caller holds a slot of {@link ReplicaCalls}. The
 * call itself is asynchronous ({@link DataNodeCalls}); the lane's drain waits for it on the
 * executor's thread (see {@link Drain}).
 *
 * @param <I> one caller's share of a call (its records, or its keys)
 * @param <R> one caller's answer
 */
final class BatchLane<I, R> {
  /** Sends several callers' shares in one call and splits the answer: one result per share, in order. */
  interface Sender<I, R> {
    /** Starts the call; never blocks. The future fails with the node's (domain) exception. */
    CompletableFuture<List<R>> send(DataNodeCalls client, List<I> shares, Deadline deadline);

    /** Records (or keys) in a share, counted against {@code --replica-batch-records}. */
    int records(I share);

    /** Bytes of a share, counted against {@code --replica-batch-bytes}. */
    long bytes(I share);
  }

  /** What the lane needs from its owner. */
  interface Context {
    DataNodeCalls client(DataNode node);

    /** The failure of a caller that waited past its deadline and is therefore not sent. */
    RuntimeException notSent(DataNode node);

    /** The failure of a caller that can never be sent (the liaison is closing). */
    RuntimeException closing();

    /** Counts one call sent for {@code callers} callers. */
    void sent(int callers);
  }

  /** One caller waiting in the lane. {@code done} runs before the caller sees its answer. */
  private record Waiter<I, R>(I share, Deadline deadline, Runnable done, CompletableFuture<R> result) {
    void complete(R value) {
      done.run();
      result.complete(value);
    }

    void fail(RuntimeException e) {
      done.run();
      result.completeExceptionally(e);
    }
  }

  private final DataNode node;
  private final Sender<I, R> sender;
  private final Context context;
  private final Executor executor;
  private final ReplicaCallLimits limits;
  private final ArrayDeque<Waiter<I, R>> queue = new ArrayDeque<>();
  private long queuedRecords;
  private long queuedBytes;
  /** True while a drain runs (or is about to) on the executor: it sends everything queued. */
  private boolean draining;

  BatchLane(DataNode node, Sender<I, R> sender, Context context, Executor executor, ReplicaCallLimits limits) {
    this.node = node;
    this.sender = sender;
    this.context = context;
    this.executor = executor;
    this.limits = limits;
  }

  /**
   * Queues one caller's share, to be sent within {@code deadline}. {@code done} runs exactly once,
   * before the returned future completes.
   */
  CompletableFuture<R> submit(I share, Deadline deadline, Runnable done) {
    Waiter<I, R> w = new Waiter<>(share, deadline, done, new CompletableFuture<>());
    boolean start;
    synchronized (this) {
      queue.add(w);
      queuedRecords += sender.records(share);
      queuedBytes += sender.bytes(share);
      start = !draining;
      draining = true;
      notifyAll(); // a lingering drain may now have a full batch
    }
    if (start) {
      try {
        executor.execute(new Drain());
      } catch (RejectedExecutionException e) {
        abandonQueued();
      }
    }
    return w.result();
  }

  /**
   * Sends batches until the queue is empty, one call at a time; queued on the executor by the first
   * caller. It waits on the executor's thread while its call is in flight: that thread is what
   * {@code --replica-call-threads} counts, so chaining the next batch on the call's completion
   * instead would let more calls than that run at once.
   */
  final class Drain implements Runnable {
    @Override
    public void run() {
      try {
        List<Waiter<I, R>> batch;
        while ((batch = next()) != null) {
          if (!batch.isEmpty()) {
            try {
              // Completes (never exceptionally) once each caller of the batch has its answer.
              send(batch).get();
            } catch (InterruptedException e) {
              // Closing: the call in flight still answers its callers; the queued ones are told now.
              Thread.currentThread().interrupt();
              abandonQueued();
              return;
            } catch (java.util.concurrent.ExecutionException e) {
              throw new IllegalStateException("a batch's answers were not handed out", e.getCause());
            }
          }
        }
      } catch (RuntimeException | Error e) {
        // Never leave callers waiting on a lane nobody drains.
        abandonQueued();
        throw e;
      }
    }

    /** Never run (the liaison is closing): its callers must not wait for it. */
    void abandon() {
      abandonQueued();
    }
  }

  private void abandonQueued() {
    List<Waiter<I, R>> left;
    synchronized (this) {
      left = new ArrayList<>(queue);
      queue.clear();
      queuedRecords = 0;
      queuedBytes = 0;
      draining = false;
    }
    left.forEach(w -> w.fail(context.closing()));
  }

  /**
   * The next batch: the oldest callers within the bounds (always at least one). Callers whose
   * deadline passed while they waited are failed here, unsent: their callers have given up. An
   * empty list when only such callers were queued; null (and the drain ends) when none is.
   */
  private List<Waiter<I, R>> next() {
    List<Waiter<I, R>> expired = new ArrayList<>();
    List<Waiter<I, R>> batch = new ArrayList<>();
    synchronized (this) {
      if (queue.isEmpty()) {
        draining = false;
        return null;
      }
      linger();
      long records = 0;
      long bytes = 0;
      while (!queue.isEmpty()) {
        Waiter<I, R> w = queue.peek();
        long r = sender.records(w.share());
        long b = sender.bytes(w.share());
        if (!w.deadline().isExpired()
            && !batch.isEmpty() && (records + r > limits.batchRecords() || bytes + b > limits.batchBytes())) {
          break;
        }
        queue.poll();
        queuedRecords -= r;
        queuedBytes -= b;
        if (w.deadline().isExpired()) {
          expired.add(w);
        } else {
          batch.add(w);
          records += r;
          bytes += b;
        }
      }
    }
    expired.forEach(w -> w.fail(context.notSent(node)));
    return batch;
  }

  /** Waits (holding the monitor's condition, not the lock) up to the linger for a full batch. */
  private void linger() {
    long lingerNanos = limits.batchLinger().toNanos();
    if (lingerNanos <= 0) {
      return;
    }
    long until = System.nanoTime() + lingerNanos;
    try {
      while (queuedRecords < limits.batchRecords() && queuedBytes < limits.batchBytes()) {
        long left = until - System.nanoTime();
        if (left <= 0) {
          return;
        }
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // closing: send what is there
    }
  }

  /** Starts the batch's call; the future completes (never exceptionally) once each caller has its answer. */
  private CompletableFuture<Void> send(List<Waiter<I, R>> batch) {
    // The latest deadline of the batch: a caller queued long ago must not cut short the call for
    // the others (under load that would fail every caller of a batch at once). Each caller stops
    // waiting at its own deadline instead (ReplicaCalls), and the call still ends within one
    // --node-timeout of its last caller's arrival.
    Deadline deadline = batch.get(0).deadline();
    List<I> shares = new ArrayList<>(batch.size());
    for (Waiter<I, R> w : batch) {
      if (w.deadline().compareTo(deadline) > 0) {
        deadline = w.deadline();
      }
      shares.add(w.share());
    }
    context.sent(batch.size());
    return start(shares, deadline).handle((answers, t) -> {
      Throwable cause = t == null ? completeEach(batch, answers) : PeerFutures.cause(t);
      if (cause == null) {
        return CompletableFuture.<Void>completedFuture(null);
      }
      if (t != null && (cause instanceof InvalidArgumentException || cause instanceof NotFoundException) && batch.size() > 1) {
        // The node refused the whole call for one caller's share (a key of a group it has not
        // heard of yet, say): that is no reason to fail the others, so each goes again alone,
        // one after the other (still one call in flight).
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (Waiter<I, R> w : batch) {
          chain = chain.thenCompose(ignored -> sendAlone(w));
        }
        return chain;
      }
      RuntimeException failure = cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
      batch.forEach(w -> {
        if (!w.result().isDone()) {
          w.fail(failure);
        }
      });
      return CompletableFuture.<Void>completedFuture(null);
    }).thenCompose(f -> f);
  }

  private CompletableFuture<Void> sendAlone(Waiter<I, R> w) {
    if (w.deadline().isExpired()) {
      w.fail(context.notSent(node));
      return CompletableFuture.completedFuture(null);
    }
    context.sent(1);
    return start(List.of(w.share()), w.deadline()).handle((answers, t) -> {
      Throwable cause = t == null ? completeEach(List.of(w), answers) : PeerFutures.cause(t);
      if (cause != null && !w.result().isDone()) {
        w.fail(cause instanceof RuntimeException r ? r : new IllegalStateException(cause));
      }
      return null;
    });
  }

  /** Hands each caller its answer; null, or what went wrong (the callers not yet answered are failed with it). */
  private static <I, R> Throwable completeEach(List<Waiter<I, R>> batch, List<R> answers) {
    try {
      for (int i = 0; i < batch.size(); i++) {
        batch.get(i).complete(answers.get(i));
      }
      return null;
    } catch (RuntimeException e) {
      return e;
    }
  }

  /** The sender's call; a sender (or client lookup) that throws instead of failing its future counts as failed. */
  private CompletableFuture<List<R>> start(List<I> shares, Deadline deadline) {
    try {
      return sender.send(context.client(node), shares, deadline);
    } catch (RuntimeException | Error e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Callers waiting in this lane now (not counting those in the call in flight). */
  synchronized int queued() {
    return queue.size();
  }
}
