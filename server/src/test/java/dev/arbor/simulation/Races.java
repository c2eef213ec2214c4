package dev.arbor.simulation;

import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import dev.arbor.check.History;
import dev.arbor.liaison.ReplicatedApi;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Two client operations on one key in flight at once, through different liaisons (issue 17: the
 * interleavings one operation at a time never explores). Each raced operation runs on a thread
 * of its own, but only one thread of the run ever moves: the step that starts an operation, or
 * releases one of its held messages, waits until that operation has either ended or is blocked
 * on a message the network holds ({@link HeldMessages}) — its liaison has no call in flight but
 * held ones — and only then ends. The scheduler then runs other steps (the other operation, gossip,
 * rounds, faults) while the held message waits for the step that releases it. Which messages are
 * held, for how long and whether they arrive are drawn from the seed, so the run stays a function
 * of it; every hold is released within 600 virtual ms, so an operation always ends.
 *
 * <p>Two shapes: <em>overlap</em> (the second operation starts 0 to 300 ms after the first, while
 * the first may be held: both pre-read before either writes, and at the same instant both stamp
 * the same revision) and <em>follow</em> (the second starts the instant the first ends: a write
 * stamped at the revision of a copy its pre-read missed). The history records each operation's
 * begin and end in the steps that saw them, so overlapping operations overlap there too.
 */
final class Races {
  /** What the simulation lends the races. */
  interface Run {
    void step(long delayMillis, String what, Runnable action);

    /** Waits until no liaison has a call in flight but held ones, and no read repair queued. */
    void settle();

    /** Records a server error (INTERNAL, UNKNOWN) as a problem of the run. */
    void noteServerError(String what, String key, StatusRuntimeException e);

    /** A delete of {@code key} begins now (see {@link TombstoneTimes}). */
    TombstoneTimes.Window deleteBegins(String key);

    /** ... and ended now: its replicas' tombstones are checked. */
    void deleteEnded(String key, TombstoneTimes.Window window);

    /** Whether a raced apply or delete may go through this liaison now (e.g. no apply while its clock is far off). */
    boolean usable(String liaison, boolean delete);
  }

  private final class Op {
    final String liaison;
    final String key;
    final String value;
    final double readHold;
    final double writeHold;
    Runnable then;
    History.Pending pending;
    TombstoneTimes.Window window;
    volatile boolean done;
    volatile StatusRuntimeException error;
    volatile RuntimeException crash;

    Op(String liaison, String key, String value, double readHold, double writeHold) {
      this.liaison = liaison;
      this.key = key;
      this.value = value;
      this.readHold = readHold;
      this.writeHold = writeHold;
    }
  }

  private final Run run;
  private final History history;
  private final HeldMessages held;
  private final Map<String, ReplicatedApi> liaisons;
  private final Map<String, ManagedChannel> clients;
  private final List<String> problems;
  private final Map<String, Op> inFlight = new LinkedHashMap<>();
  private long started;
  private long raced;
  private long values;

  Races(Run run, History history, HeldMessages held, Map<String, ReplicatedApi> liaisons,
      Map<String, ManagedChannel> clients, List<String> problems) {
    this.run = run;
    this.history = history;
    this.held = held;
    this.liaisons = liaisons;
    this.clients = clients;
    this.problems = problems;
  }

  /** Whether {@code liaison} has a raced operation in flight (other operations must not use it then). */
  boolean busy(String liaison) {
    return inFlight.containsKey(liaison);
  }

  boolean any() {
    return !inFlight.isEmpty();
  }

  /** Calls of {@code liaison} held now: a settled liaison has no other call in flight. */
  int heldNow(String liaison) {
    return held.heldNow(liaison);
  }

  /** Raced operations started, and races (pairs) that ran. */
  long operations() {
    return started;
  }

  long races() {
    return raced;
  }

  /** Schedules {@code count} races on the keys given, at random times before {@code untilMillis}. */
  void schedule(Random r, int count, List<String> hotKeys, List<String> allKeys, List<String> liaisonIds,
      long seed, long untilMillis) {
    for (int i = 0; i < count; i++) {
      long at = 1_000 + r.nextInt((int) untilMillis - 1_000);
      String key = r.nextInt(5) < 4 ? hotKeys.get(r.nextInt(hotKeys.size())) : allKeys.get(r.nextInt(allKeys.size()));
      int first = r.nextInt(liaisonIds.size());
      String a = liaisonIds.get(first);
      String b = liaisonIds.get((first + 1) % liaisonIds.size());
      int shape = r.nextInt(3);
      boolean follow = shape == 0;
      long gap = shape == 2 || r.nextBoolean() ? 0 : 1 + r.nextInt(300);
      String valueA = r.nextInt(3) == 0 ? null : "v" + seed + "-r" + (++values);
      String valueB = r.nextInt(3) == 0 ? null : "v" + seed + "-r" + (++values);
      double chance = r.nextBoolean() ? 0.4 : 0.8;
      // Shape 2, a tie: both pre-read before either write lands and both stamp this instant's
      // revision; the first one's writes are all held, the second's half of them, so the two
      // versions may land on different replicas.
      Op opA = shape == 2 ? new Op(a, key, valueA, 0, 1) : new Op(a, key, valueA, chance, chance);
      Op opB = shape == 2 ? new Op(b, key, valueB, 0, 0.5) : new Op(b, key, valueB, chance, chance);
      String name = follow ? " follow" : shape == 2 ? " tie" : " +" + gap;
      run.step(at, "race " + key + " " + a + "+" + b + name, () -> {
        if (busy(a) || busy(b) || !run.usable(a, valueA == null) || !run.usable(b, valueB == null)) {
          return; // the liaisons are taken: this race does not run
        }
        raced++;
        if (follow) {
          opA.then = () -> run.step(0, "race follower " + key + " " + b, () -> start(opB));
          start(opA);
        } else {
          // Reserved now, so no other operation takes the second liaison in between; scheduled
          // before the first starts, so at gap 0 it runs before that instant's releases.
          inFlight.put(b, opB);
          run.step(gap, "race second " + key + " " + b, () -> {
            inFlight.remove(b);
            start(opB);
          });
          start(opA);
        }
      });
    }
  }

  private void start(Op op) {
    if (busy(op.liaison)) {
      return; // (a follower whose liaison was taken meanwhile)
    }
    started++;
    inFlight.put(op.liaison, op);
    held.arm(op.liaison, op.readHold, op.writeHold);
    op.pending = op.value == null ? history.beginDelete(op.key) : history.beginWrite(op.key, op.value);
    op.window = op.value == null ? run.deleteBegins(op.key) : null;
    PropertyServiceGrpc.PropertyServiceBlockingStub stub = PropertyServiceGrpc.newBlockingStub(clients.get(op.liaison))
        .withDeadlineAfter(60, TimeUnit.SECONDS);
    Thread t = new Thread(() -> {
      try {
        if (op.value == null) {
          stub.delete(DeleteRequest.newBuilder().setGroup(Simulation.GROUP).setName(Simulation.SCHEMA).setId(op.key)
              .build());
        } else {
          stub.apply(ApplyRequest.newBuilder().setStrategy(ApplyRequest.Strategy.STRATEGY_REPLACE)
              .setProperty(Property.newBuilder()
                  .setMetadata(Metadata.newBuilder().setGroup(Simulation.GROUP).setName(Simulation.SCHEMA))
                  .setId(op.key).addTags(Tag.newBuilder().setKey("v")
                      .setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(op.value))))).build());
        }
      } catch (StatusRuntimeException e) {
        op.error = e;
      } catch (RuntimeException e) {
        op.crash = e;
      } finally {
        op.done = true;
      }
    }, "sim-race-" + op.liaison);
    t.setDaemon(true);
    t.start();
    advance(op);
  }

  /**
   * The baton: returns once {@code op} has ended (then records its outcome) or waits on a held
   * message (then schedules the steps that release what it holds, in a fixed order).
   */
  private void advance(Op op) {
    ReplicatedApi api = liaisons.get(op.liaison);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      if (op.done) {
        finish(op);
        return;
      }
      int h = held.heldNow(op.liaison);
      if (h > 0 && api.replicaCallsPending() == h) {
        for (HeldMessages.Held m : held.takeNew()) {
          boolean deliver = held.deliversOf(m);
          run.step(held.delayOf(m), "release " + m.what() + (deliver ? "" : " lost"), () -> {
            held.release(m, deliver);
            advance(inFlight.get(m.from()));
          });
        }
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("a raced " + (op.value == null ? "delete" : "apply") + " of " + op.key
            + " through " + op.liaison + " neither ended nor waited on a held message within 30 s ("
            + api.replicaCallsPending() + " calls pending, " + h + " held)");
      }
      LockSupport.parkNanos(20_000);
    }
  }

  private void finish(Op op) {
    held.disarm(op.liaison);
    inFlight.remove(op.liaison);
    run.settle();
    if (op.crash != null) {
      problems.add("a raced operation on " + op.key + " threw " + Simulation.trace(op.crash));
      op.pending.end(History.Outcome.UNKNOWN);
    } else if (op.error == null) {
      op.pending.end(History.Outcome.ACKED);
    } else {
      run.noteServerError(op.value == null ? "raced delete" : "raced apply", op.key, op.error);
      Status.Code c = op.error.getStatus().getCode();
      op.pending.end(c == Status.Code.INVALID_ARGUMENT ? History.Outcome.FAILED : History.Outcome.UNKNOWN);
    }
    if (op.window != null) {
      run.deleteEnded(op.key, op.window);
    }
    if (op.then != null) {
      op.then.run();
    }
  }

  /** Problems for operations still in flight at the end of the run (a hold never released). */
  List<String> unfinished() {
    List<String> out = new ArrayList<>();
    inFlight.values().forEach(op -> out.add("a raced operation on " + op.key + " through " + op.liaison
        + " never ended"));
    return out;
  }
}
