package dev.arbor.repair.handoff;

import dev.arbor.runtime.NodeRuntime;
import dev.arbor.runtime.Scheduler;
import dev.arbor.storage.PropertyStore;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The background work on orphaned copies: every check interval it compares placement with the
 * copies held, hands each orphan's recent records to the owners and then drops the copy (its tree
 * too). It also persists the last-alive time. One thread: hand-offs run one at a time.
 */
public final class OrphanHandOffs implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(OrphanHandOffs.class);

  private final OrphanTracker tracker;
  private final HandOff handOff;
  private final PropertyStore store;
  private final HandOffSettings settings;
  private final Duration grace;
  private final Duration skew;
  private final LongSupplier wallNanos;
  private final LongSupplier nanoTime;
  private final LastAlive lastAlive;
  private final Supplier<Instant> now;
  private final CountDownLatch closed;
  private final Scheduler executor;
  private final Counter copiesDropped;
  private final Counter pushed;
  private final Counter tooOld;
  private final Counter undelivered;
  /** Copies fenced at start are not all dropped yet: a crash now must fence them again at restart. */
  private volatile boolean fencePending;

  /**
   * @param closed counted down on {@link #close}; the hand-off's backoff waits on it
   * @param runtime the node's clocks (its wall clock is the one revisions and delete times use) and
   *     the thread the checks run on
   */
  public OrphanHandOffs(NodeRuntime runtime, OrphanTracker tracker, HandOff handOff, PropertyStore store,
      HandOffSettings settings, Duration grace, Duration skew, LastAlive lastAlive, CountDownLatch closed,
      MeterRegistry meters) {
    LongSupplier wallNanos = runtime.wallClock()::nanos;
    LongSupplier nanoTime = runtime.ticker()::read;
    Supplier<Instant> now = runtime.wallClock()::instant;
    this.tracker = tracker;
    this.handOff = handOff;
    this.store = store;
    this.settings = settings;
    this.grace = grace;
    this.skew = skew;
    this.wallNanos = wallNanos;
    this.nanoTime = nanoTime;
    this.lastAlive = lastAlive;
    this.now = now;
    this.closed = closed;
    this.executor = runtime.newScheduler("arbor-handoff");
    Gauge.builder("arbor.orphan.copies", tracker, t -> t.orphans().size())
        .description("shard copies this node holds but no longer owns, waiting for hand-off and drop")
        .register(meters);
    copiesDropped = Counter.builder("arbor.handoff.copies.dropped")
        .description("orphaned shard copies handed off and dropped").register(meters);
    pushed = Counter.builder("arbor.handoff.records.pushed")
        .description("records of orphaned copies delivered to the owners").register(meters);
    tooOld = Counter.builder("arbor.handoff.records.dropped").tag("reason", "older_than_grace")
        .description("records of orphaned copies dropped without being pushed").register(meters);
    undelivered = Counter.builder("arbor.handoff.records.dropped").tag("reason", "owners_unreachable")
        .description("records of orphaned copies dropped without being pushed").register(meters);
  }

  /** Treats every copy given as an orphan at once (the long-absence fence); call before serving. */
  public void fence(java.util.List<ShardRef> copies, String why) {
    if (copies.isEmpty()) {
      return;
    }
    fencePending = true;
    LOG.warn("{}: treating its {} replicated shard copies as orphans: recent records go to the owners, then the "
        + "copies are dropped and refilled by repair: {}", why, copies.size(), copies);
    copies.forEach(c -> tracker.mark(c, why));
  }

  public void start() {
    executor.scheduleWithFixedDelay(this::writeAlive, Duration.ZERO, settings.aliveInterval());
    executor.scheduleWithFixedDelay(this::tick, settings.checkInterval(), settings.checkInterval());
  }

  private void writeAlive() {
    if (fencePending) {
      if (!tracker.orphans().isEmpty()) {
        return;
      }
      fencePending = false;
    }
    try {
      lastAlive.write(now.get());
    } catch (IOException | RuntimeException e) {
      LOG.error("persisting the last-alive time failed", e);
    }
  }

  private void tick() {
    try {
      tracker.scan();
      for (ShardRef s : tracker.orphans()) {
        if (closed.getCount() == 0) {
          return;
        }
        handOffAndDrop(s);
      }
    } catch (RuntimeException e) {
      LOG.error("checking for orphaned shard copies failed", e);
    }
  }

  private void handOffAndDrop(ShardRef s) {
    long newerThan = wallNanos.getAsLong() - grace.toNanos() + skew.toNanos();
    long giveUpAt = nanoTime.getAsLong() + grace.dividedBy(2).toNanos();
    HandOffResult r;
    try {
      r = handOff.run(s, newerThan, giveUpAt);
    } catch (IOException | RuntimeException e) {
      LOG.error("hand-off of orphaned copy {} failed; retried on the next check", s, e);
      return;
    }
    if (closed.getCount() == 0) {
      return; // cut short by shutdown: the copy stays and is handed off after restart
    }
    try {
      store.dropShard(s.group(), s.shard());
    } catch (IOException | RuntimeException e) {
      LOG.error("dropping orphaned copy {} failed; retried on the next check", s, e);
      return;
    }
    tracker.forget(s);
    copiesDropped.increment();
    pushed.increment(r.pushed());
    tooOld.increment(r.tooOld());
    undelivered.increment(r.undelivered());
    if (r.undelivered() > 0) {
      LOG.error("DROPPED orphaned copy {} with {} recent record(s) NO owner took within {} (owners unreachable); "
          + "{} record(s) were delivered, {} older than the grace were dropped", s, r.undelivered(),
          grace.dividedBy(2), r.pushed(), r.tooOld());
    } else {
      LOG.info("handed off and dropped orphaned copy {}: {} record(s) delivered to the owners, {} older than the "
          + "grace dropped (the owners have them or purged their deletes)", s, r.pushed(), r.tooOld());
    }
  }

  /** Stops the checks; a hand-off in progress ends at its next push and does not drop the copy. */
  @Override
  public void close() {
    closed.countDown();
    executor.close();
    try {
      if (!executor.awaitTermination(Duration.ofSeconds(30))) {
        LOG.warn("hand-off did not stop within 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    writeAlive();
  }
}
