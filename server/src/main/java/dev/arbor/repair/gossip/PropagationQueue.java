package dev.arbor.repair.gossip;

import dev.arbor.api.repair.v1.PropagationRequest;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * Pending rounds of one node, one slot per (group, shard) — spec §7.6 with the #1127 lessons:
 * a newer request from the same origin replaces the pending one (latest wins, the replaced
 * round is reported superseded); a request from another origin is refused while the shard's
 * current origin was seen within {@code ttl} ({@code since} is refreshed on every accepted new
 * origin, fixing upstream's never-refreshed timestamp); workers take entries one by one until
 * none is pending, so no request is ever stranded, and never two rounds of one shard at once.
 */
public final class PropagationQueue {
  /** What {@link #offer} did with a request. */
  public enum Decision { ACCEPTED, COALESCED, REJECTED }

  /** The outcome of an offer; {@code replaced} is the pending request it superseded, if any. */
  public record Offer(Decision decision, PropagationRequest replaced, String currentOrigin) {}

  private static final class Entry {
    PropagationRequest pending;
    /** A worker is handling a round of this shard: no second worker takes the shard meanwhile. */
    boolean busy;
    String origin;
    long since;
  }

  private final Duration ttl;
  private final LongSupplier clockNanos;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final Map<String, Entry> entries = new LinkedHashMap<>();
  private boolean closed;

  public PropagationQueue(Duration ttl, LongSupplier clockNanos) {
    this.ttl = ttl;
    this.clockNanos = clockNanos;
  }

  public static String key(PropagationRequest r) {
    return r.getGroup() + "_" + r.getShard();
  }

  /**
   * Queues {@code r} (spec §7.6).
   *
   * @throws IllegalStateException once closed: nothing would ever handle or report the request
   */
  public Offer offer(PropagationRequest r) {
    String origin = r.getContext().getOriginNode();
    lock.lock();
    try {
      if (closed) {
        throw new IllegalStateException("the propagation queue is closed");
      }
      long now = clockNanos.getAsLong();
      Entry e = entries.computeIfAbsent(key(r), k -> new Entry());
      PropagationRequest replaced = e.pending;
      if (e.origin == null || now - e.since > ttl.toNanos() || e.origin.equals(origin)) {
        if (e.origin == null || !e.origin.equals(origin)) {
          e.since = now;
        }
        e.origin = origin;
        e.pending = r;
        changed.signalAll();
        return new Offer(replaced == null ? Decision.ACCEPTED : Decision.COALESCED, replaced, origin);
      }
      return new Offer(Decision.REJECTED, null, e.origin);
    } finally {
      lock.unlock();
    }
  }

  /**
   * Marks {@code handled}'s shard free for the next worker (always call it after a taken request
   * is handled), and ends the claim of its origin on its shard once this node has done its part of
   * the round and nothing newer waits: a later round from another node (an operator's manual run,
   * another node's schedule) is then taken at once instead of being turned away for the rest of
   * the TTL. While a round is being handled here, its claim still keeps other origins out.
   */
  public void release(PropagationRequest handled) {
    lock.lock();
    try {
      Entry e = entries.get(key(handled));
      if (e == null) {
        return;
      }
      e.busy = false;
      if (e.pending == null && handled.getContext().getOriginNode().equals(e.origin)) {
        entries.remove(key(handled));
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /**
   * The next pending request (oldest key first), waiting up to {@code wait}; empty on timeout or
   * once closed.
   */
  public Optional<PropagationRequest> take(Duration wait) throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    lock.lock();
    try {
      while (!closed) {
        for (Entry e : entries.values()) {
          if (e.pending != null && !e.busy) {
            PropagationRequest r = e.pending;
            e.pending = null;
            e.busy = true;
            return Optional.of(r);
          }
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return Optional.empty();
        }
        changed.awaitNanos(left);
      }
      return Optional.empty();
    } finally {
      lock.unlock();
    }
  }

  /** Requests waiting to be handled. */
  public int pending() {
    lock.lock();
    try {
      return (int) entries.values().stream().filter(e -> e.pending != null).count();
    } finally {
      lock.unlock();
    }
  }

  /** Wakes the worker for good; returns the requests that will never be handled. */
  public java.util.List<PropagationRequest> close() {
    lock.lock();
    try {
      closed = true;
      changed.signalAll();
      java.util.List<PropagationRequest> left = new java.util.ArrayList<>();
      for (Entry e : entries.values()) {
        if (e.pending != null) {
          left.add(e.pending);
          e.pending = null;
        }
      }
      return left;
    } finally {
      lock.unlock();
    }
  }

  /** For waiting in tests: nothing is done with it. */
  static long nanos(long ms) {
    return TimeUnit.MILLISECONDS.toNanos(ms);
  }
}
