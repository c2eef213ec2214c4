package dev.arbor.observability;

import dev.arbor.api.repair.v1.HopResult;
import dev.arbor.api.repair.v1.RoundOutcome;
import dev.arbor.repair.RoundObserver;
import dev.arbor.repair.coverage.CoverageObserver;
import dev.arbor.repair.gossip.GossipObserver;
import dev.arbor.repair.gossip.PropagationQueue;
import dev.arbor.repair.gossip.RoundOutcomes;
import dev.arbor.repair.sync.SessionFigures;
import dev.arbor.repair.sync.SessionObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Repair metrics (spec §10.1's gossip and repair counters under Arbor's {@code arbor_repair_}
 * prefix), fed by the repair layers' observer interfaces. Per (group, shard) meters appear when
 * the shard first takes part in a session; {@code arbor_repair_seconds_since_last_success} is
 * the time since this node last finished a session of the shard successfully (as client or
 * server), the value to alert on.
 */
public final class RepairMetrics implements SessionObserver, GossipObserver, RoundObserver, CoverageObserver {
  private final MeterRegistry registry;
  private final LongSupplier clockMillis;
  private final Map<String, Long> lastSuccess = new ConcurrentHashMap<>();
  /** Per (group, shard): the coverage age and overdue flag of the last coverage check. */
  private final Map<String, double[]> coverage = new ConcurrentHashMap<>();

  public RepairMetrics(MeterRegistry registry, LongSupplier clockMillis) {
    this.registry = registry;
    this.clockMillis = clockMillis;
  }

  private Counter counter(String name, String description, String... tags) {
    return Counter.builder(name).description(description).tags(tags).register(registry);
  }

  private void succeeded(String group, int shard) {
    String k = group + "\u0000" + shard;
    if (lastSuccess.put(k, clockMillis.getAsLong()) == null) {
      Gauge.builder("arbor.repair.seconds.since.last.success", lastSuccess,
              m -> (clockMillis.getAsLong() - m.getOrDefault(k, clockMillis.getAsLong())) / 1000.0)
          .description("seconds since this node last finished a repair session of the shard successfully")
          .tags("group", group, "shard", Integer.toString(shard)).register(registry);
    }
  }

  @Override
  public void shardCoverage(String group, int shard, double ageSeconds, boolean overdue) {
    String k = group + "\u0000" + shard;
    double[] v = {ageSeconds, overdue ? 1 : 0};
    if (coverage.put(k, v) == null) {
      String s = Integer.toString(shard);
      Gauge.builder("arbor.repair.last.success.age.seconds", coverage, m -> m.getOrDefault(k, v)[0])
          .description("seconds since the last repair round that covered every replica of the shard (its "
              + "coverage watermark) started; since this node started watching when none did yet")
          .tags("group", group, "shard", s).register(registry);
      Gauge.builder("arbor.repair.coverage.overdue", coverage, m -> m.getOrDefault(k, v)[1])
          .description("1 when the shard went 3/4 of the tombstone grace without a covering repair round")
          .tags("group", group, "shard", s).register(registry);
    }
  }

  @Override
  public void clientSessionEnded(String group, int shard, String peer, SessionFigures f, String error) {
    String s = Integer.toString(shard);
    counter("arbor.repair.sessions", "two-node repair sessions", "group", group, "shard", s, "role", "client",
        "outcome", error == null ? "success" : "failure").increment();
    counter("arbor.repair.session.bytes.sent", "bytes sent in repair sessions", "group", group, "shard", s, "role",
        "client").increment(f.bytesSent());
    counter("arbor.repair.session.bytes.received", "bytes received in repair sessions", "group", group, "shard", s,
        "role", "client").increment(f.bytesReceived());
    counter("arbor.repair.leaves.compared", "server leaves merged against local leaves", "group", group, "shard", s)
        .increment(f.leavesCompared());
    counter("arbor.repair.properties.repaired", "properties stored by repair, by direction", "group", group,
        "shard", s, "direction", "pushed").increment(f.repairedToServer());
    counter("arbor.repair.properties.repaired", "properties stored by repair, by direction", "group", group,
        "shard", s, "direction", "pulled").increment(f.repairedToClient());
    Timer.builder("arbor.repair.session.duration").description("wall time of repair sessions")
        .tags("group", group, "role", "client").register(registry).record(f.durationNanos(), TimeUnit.NANOSECONDS);
    if (error == null) {
      succeeded(group, shard);
    }
  }

  @Override
  public void treeFormatMismatch(String group, int shard, String peer, String role, int peerFormat) {
    counter("arbor.repair.tree.format.mismatch", "repair sessions refused because the peer's repair trees are of"
        + " another format (mixed versions during a rolling upgrade); no roots were compared", "group", group,
        "shard", Integer.toString(shard), "role", role).increment();
  }

  @Override
  public void protocolFallback(String group, int shard, String peer, String role, int protocol) {
    counter("arbor.repair.protocol.fallback", "repair sessions run on an older session protocol because the peer"
        + " speaks no newer one (mixed versions during a rolling upgrade)", "group", group, "shard",
        Integer.toString(shard), "role", role, "protocol", Integer.toString(protocol)).increment();
  }

  @Override
  public void protocolMismatch(String group, int shard, String peer, String role, int peerProtocol) {
    counter("arbor.repair.protocol.mismatch", "repair sessions refused because the two nodes speak no session"
        + " protocol in common; nothing was compared", "group", group, "shard", Integer.toString(shard), "role",
        role).increment();
  }

  @Override
  public void bulkTransferred(String group, int shard, String role, long files, long bytes) {
    String s = Integer.toString(shard);
    counter("arbor.repair.bulk.bytes", "Lucene file bytes moved by bulk transfers to empty replicas", "group", group,
        "shard", s, "role", role).increment(bytes);
    counter("arbor.repair.bulk.files", "Lucene files moved by bulk transfers to empty replicas", "group", group,
        "shard", s, "role", role).increment(files);
  }

  @Override
  public void serverSessionEnded(String group, int shard, String client, long stored, long sent, long bytesIn,
      long bytesOut, String error) {
    String s = Integer.toString(shard);
    counter("arbor.repair.sessions", "two-node repair sessions", "group", group, "shard", s, "role", "server",
        "outcome", error == null ? "success" : "failure").increment();
    counter("arbor.repair.session.bytes.sent", "bytes sent in repair sessions", "group", group, "shard", s, "role",
        "server").increment(bytesOut);
    counter("arbor.repair.session.bytes.received", "bytes received in repair sessions", "group", group, "shard", s,
        "role", "server").increment(bytesIn);
    counter("arbor.repair.properties.stored", "properties this node stored as a repair server", "group", group,
        "shard", s).increment(stored);
    if (error == null) {
      succeeded(group, shard);
    }
  }

  @Override
  public void recordsRejected(String group, int shard, long count) {
    counter("arbor.repair.property.failures", "received records that failed their checks and were not stored",
        "group", group, "shard", Integer.toString(shard)).increment(count);
  }

  @Override
  public void received(String group, PropagationQueue.Decision decision) {
    counter("arbor.repair.gossip.received", "propagation requests received, by de-duplication decision",
        "group", group, "decision", decision.name().toLowerCase()).increment();
  }

  @Override
  public void handled(String group, int shard, boolean success, long nanos) {
    Timer.builder("arbor.repair.gossip.handle").description("handling of propagation requests (hop + forward)")
        .tags("group", group, "outcome", success ? "success" : "failure").register(registry)
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void forwarded(String group, boolean success, long nanos) {
    Timer.builder("arbor.repair.gossip.forward").description("forwarding a round to the next node")
        .tags("group", group, "outcome", success ? "success" : "failure").register(registry)
        .record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void roundEnded(String group, String origin, RoundOutcome o) {
    counter("arbor.repair.gossip.rounds.ended", "rounds that ended on this node, by status", "group", group,
        "origin", origin, "status", o.getStatus()).increment();
    if (o.getMaxPropagationCount() > 0) {
      DistributionSummary.builder("arbor.repair.gossip.propagation.ratio")
          .description("propagation count / budget when a round ended here")
          .serviceLevelObjectives(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
          .tags("group", group).register(registry)
          .record((double) o.getPropagationCount() / o.getMaxPropagationCount());
    }
  }

  @Override
  public void roundStarted(String group, int shard, String trigger) {
    counter("arbor.repair.rounds.started", "rounds this node started", "group", group, "trigger", trigger)
        .increment();
  }

  @Override
  public void hopReported(String group, int shard, HopResult hop) {}

  @Override
  public void roundFinished(String group, int shard, RoundOutcome outcome, long nanos) {
    Timer.builder("arbor.repair.rounds").description("rounds this node started, by final status")
        .tags("group", group, "status", outcome.getStatus()).register(registry).record(Duration.ofNanos(nanos));
    if (RoundOutcomes.COMPLETED.equals(outcome.getStatus())) {
      succeeded(group, shard);
    }
  }
}
