package dev.arbor.simulation;

import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;

/**
 * Virtual time and the steps due on it: one thread takes the earliest step, moves the clock to
 * its time and runs it to the end before the next one starts. Steps due at the same time run in
 * the order they were scheduled, so a run depends on nothing but its seed.
 */
final class SimScheduler {
  /** Virtual time starts here (ns since the Unix epoch, 2026-01-01T00:00:00Z): revisions look like real ones. */
  static final long EPOCH_NANOS = 1_767_225_600_000_000_000L;

  private record Step(long at, long seq, String what, Runnable action) {}

  private final PriorityQueue<Step> due = new PriorityQueue<>((a, b) -> a.at != b.at ? Long.compare(a.at, b.at)
      : Long.compare(a.seq, b.seq));
  private long now = EPOCH_NANOS;
  private long seq;
  private long ran;
  private long fingerprint = 1;
  private final java.util.List<String> journal;

  SimScheduler() {
    this(false);
  }

  /** @param keepJournal remember every step run (debugging a run that is not deterministic) */
  SimScheduler(boolean keepJournal) {
    this.journal = keepJournal ? new java.util.ArrayList<>() : null;
  }

  /** Virtual wall clock, ns since the Unix epoch. */
  synchronized long now() {
    return now;
  }

  /** Virtual milliseconds since the start of the run (for printing a schedule). */
  long elapsedMillis() {
    return TimeUnit.NANOSECONDS.toMillis(now - EPOCH_NANOS);
  }

  synchronized void after(long delayMillis, String what, Runnable action) {
    at(now + TimeUnit.MILLISECONDS.toNanos(Math.max(0, delayMillis)), what, action);
  }

  synchronized void at(long atNanos, String what, Runnable action) {
    due.add(new Step(Math.max(now, atNanos), seq++, what, action));
  }

  /** Runs the earliest step; false when none is left. */
  boolean runNext() {
    Step s;
    synchronized (this) {
      s = due.poll();
      if (s == null) {
        return false;
      }
      now = s.at;
      ran++;
      fingerprint = fingerprint * 31 + s.at * 17 + s.what.hashCode();
      if (journal != null) {
        journal.add(elapsedMillis() + " " + s.what);
      }
    }
    s.action.run();
    return true;
  }

  /** Runs every step due up to {@code untilNanos} (and those they schedule within it), then sets the clock there. */
  void runUntil(long untilNanos) {
    while (true) {
      synchronized (this) {
        if (due.isEmpty() || due.peek().at > untilNanos) {
          break;
        }
      }
      runNext();
    }
    synchronized (this) {
      now = Math.max(now, untilNanos);
    }
  }

  /** A hash of every step run, in order, with its time: equal for two runs that did the same. */
  synchronized long fingerprint() {
    return fingerprint;
  }

  synchronized java.util.List<String> journal() {
    return journal == null ? java.util.List.of() : java.util.List.copyOf(journal);
  }

  long stepsRun() {
    return ran;
  }

  synchronized int pending() {
    return due.size();
  }
}
