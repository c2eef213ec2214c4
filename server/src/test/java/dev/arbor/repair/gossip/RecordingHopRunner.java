package dev.arbor.repair.gossip;

import dev.arbor.api.repair.v1.TraceContext;
import dev.arbor.repair.sync.SessionFigures;
import dev.arbor.repair.sync.SyncFailedException;
import io.grpc.Context;
import io.grpc.Deadline;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A fake two-node session shared by every simulated node: records each attempt as (client,
 * server, group, shard, trace) and can fail a client or a pair, block a matching hop until the
 * test releases it, or make every hop slow. Blocking and slowness honour the gRPC context the
 * worker runs the hop in, as the real {@code RepairSessionClient} does, so shutdown can cancel
 * them. The real session is covered by {@code RepairRoundTest} over real data nodes.
 */
final class RecordingHopRunner {
  /** One call of the runner. */
  record Call(String client, String server, String group, int shard, TraceContext trace) {
    String pair() {
      return client + "->" + server;
    }
  }

  /** A hop that stops until {@link #release} is counted down; {@link #entered} tells it arrived. */
  record Gate(Predicate<Call> matches, CountDownLatch entered, CountDownLatch release) {
    void open() {
      release.countDown();
    }
  }

  /** Every call, in the order they started. */
  final List<Call> attempts = new CopyOnWriteArrayList<>();
  /** Calls that returned successfully, in the order they ended. */
  final List<Call> syncs = new CopyOnWriteArrayList<>();
  private final Map<String, Boolean> failingClients = new ConcurrentHashMap<>();
  private final Map<String, Boolean> failingPairs = new ConcurrentHashMap<>();
  private final List<Gate> gates = new CopyOnWriteArrayList<>();
  private volatile long slowMillis;

  /** Every hop run by {@code client} fails (the failure aborts the round when {@code aborts}). */
  void failClient(String client, boolean aborts) {
    failingClients.put(client, aborts);
  }

  /** Hops from {@code client} to {@code server} fail. */
  void failPair(String client, String server, boolean aborts) {
    failingPairs.put(client + "->" + server, aborts);
  }

  /** The first hop matching {@code matches} (and every later one) waits until the gate opens. */
  Gate block(Predicate<Call> matches) {
    Gate g = new Gate(matches, new CountDownLatch(1), new CountDownLatch(1));
    gates.add(g);
    return g;
  }

  void slow(long millis) {
    slowMillis = millis;
  }

  /** The runner as seen by node {@code client}. */
  HopRunner forClient(String client) {
    return (peer, address, group, shard, trace, deadline) -> sync(client, peer, group, shard, trace, deadline);
  }

  List<String> pairs(List<Call> calls) {
    return calls.stream().map(Call::pair).toList();
  }

  List<String> syncPairs() {
    return pairs(syncs);
  }

  private SessionFigures sync(String client, String server, String group, int shard, TraceContext trace,
      Deadline deadline) {
    Call call = new Call(client, server, group, shard, trace);
    attempts.add(call);
    for (Gate g : gates) {
      if (g.matches().test(call)) {
        g.entered().countDown();
        await(g.release(), TimeUnit.SECONDS.toMillis(30), deadline);
      }
    }
    long slow = slowMillis;
    if (slow > 0) {
      await(new CountDownLatch(1), slow, deadline);
    }
    Boolean aborts = failingPairs.get(call.pair());
    if (aborts == null) {
      aborts = failingClients.get(client);
    }
    if (aborts != null) {
      throw new SyncFailedException("fake session " + call.pair() + " failed", aborts, null);
    }
    syncs.add(call);
    return new SessionFigures(false, 1, 10, 1, 2, 100, 200, 1_000_000);
  }

  /**
   * Waits for {@code latch} up to {@code millis}; a cancelled context or an expired deadline
   * fails the hop (as a cancelled gRPC session would).
   */
  private static void await(CountDownLatch latch, long millis, Deadline deadline) {
    Context ctx = Context.current();
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    try {
      while (!latch.await(5, TimeUnit.MILLISECONDS)) {
        if (ctx.isCancelled()) {
          throw new SyncFailedException("fake session cancelled", false, null);
        }
        if (deadline.isExpired()) {
          throw new SyncFailedException("fake session passed its deadline", false, null);
        }
        if (System.nanoTime() >= end) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SyncFailedException("fake session interrupted", false, e);
    }
  }
}
