package dev.arbor.simulation;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Messages the network holds: a liaison's call to a data node (a pre-read or a write of an
 * operation in flight) waits, its sending thread blocked, until a later step releases it —
 * delivered then, or dropped — while other steps run. This is how two client operations overlap
 * on one key. Which calls are held, when each is released and whether it then arrives are drawn
 * from the seed per (caller, target, method) and call count, like the network's other faults, so
 * parallel sending threads cannot reorder the draws; the steps that release them are scheduled by
 * the step that saw them held, in a fixed order, never by the sending threads.
 */
final class HeldMessages {
  /** One held call: released exactly once, with true (deliver) or false (drop). */
  record Held(String from, String to, String method, long n, CompletableFuture<Boolean> release) {
    String what() {
      return method + " " + from + ">" + to + "#" + n;
    }
  }

  private final long seed;
  /** Per caller (a liaison with an operation in flight): the chance that a pre-read, a write is held. */
  private final Map<String, double[]> armed = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> heldNow = new ConcurrentHashMap<>();
  private final List<Held> unscheduled = new ArrayList<>();
  private final Map<String, AtomicLong> draws = new ConcurrentHashMap<>();
  private final AtomicLong total = new AtomicLong();

  HeldMessages(long seed) {
    this.seed = seed;
  }

  /** From now on {@code caller}'s pre-reads and writes are held with these probabilities. */
  void arm(String caller, double read, double write) {
    armed.put(caller, new double[] {read, write});
  }

  void disarm(String caller) {
    armed.remove(caller);
  }

  /** Calls of {@code caller} held now (blocked, not yet released). */
  int heldNow(String caller) {
    AtomicInteger n = heldNow.get(caller);
    return n == null ? 0 : n.get();
  }

  long total() {
    return total.get();
  }

  /**
   * Called by the sending thread before the call goes out: null when it is not held; otherwise
   * blocks until a step releases it and returns whether it is then delivered.
   */
  Boolean await(String from, String to, String method) {
    double[] chances = armed.get(from);
    if (chances == null || !(method.equals("Read") || method.equals("Write"))) {
      return null;
    }
    double chance = method.equals("Read") ? chances[0] : chances[1];
    String k = from + ">" + to + ">" + method;
    long n = draws.computeIfAbsent(k, x -> new AtomicLong()).getAndIncrement();
    if (draw(k, n, 0) >= chance) {
      return null;
    }
    Held h = new Held(from, to, method, n, new CompletableFuture<>());
    synchronized (unscheduled) {
      unscheduled.add(h);
      heldNow.computeIfAbsent(from, x -> new AtomicInteger()).incrementAndGet();
    }
    total.incrementAndGet();
    try {
      // Bounded: a release step comes within a few hundred virtual milliseconds; a hold that
      // outlives this is a stuck run, and the call then fails as a lost request would.
      return h.release().get(60, TimeUnit.SECONDS);
    } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** The calls held since the last time this was asked, in a fixed order (not the threads' order). */
  List<Held> takeNew() {
    List<Held> out;
    synchronized (unscheduled) {
      out = new ArrayList<>(unscheduled);
      unscheduled.clear();
    }
    out.sort(Comparator.comparing(Held::from).thenComparing(Held::to).thenComparing(Held::method)
        .thenComparingLong(Held::n));
    return out;
  }

  /** How long {@code h} is held (ms of virtual time): half the time not at all (the same instant). */
  long delayOf(Held h) {
    double d = draw(h.from() + ">" + h.to() + ">" + h.method(), h.n(), 1);
    return d < 0.5 ? 0 : 1 + (long) ((d - 0.5) * 600);
  }

  /** Whether {@code h} arrives when released (a third are lost: the caller sees the request dropped). */
  boolean deliversOf(Held h) {
    return draw(h.from() + ">" + h.to() + ">" + h.method(), h.n(), 2) >= 0.35;
  }

  void release(Held h, boolean deliver) {
    heldNow.get(h.from()).decrementAndGet();
    h.release().complete(deliver);
  }

  private double draw(String k, long n, int salt) {
    long h = mix(seed ^ mix(k.hashCode() * 0x9E3779B97F4A7C15L + n * 0xC2B2AE3D27D4EB4FL + salt + 0x51ED27L));
    return (h >>> 11) * 0x1.0p-53;
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
