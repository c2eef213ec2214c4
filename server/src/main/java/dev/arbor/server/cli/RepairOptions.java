package dev.arbor.server.cli;

import dev.arbor.repair.tree.BuildSchedule;
import dev.arbor.server.RepairConfig;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Background repair settings of a data node (data, dev-cluster). */
final class RepairOptions {
  @Option(names = "--repair-schedule", defaultValue = "0 2 * * *",
      description = "When this node starts repair rounds: at each fire time, one round (--repair-workers at once) for every shard keeping 2+ copies it is the first replica of, and for any shard it holds left uncovered for half the tombstone grace. Must fire at least once per half grace (warned at start). 5-field cron (server local time), @daily, '@every 1h', or 'off': no rounds, so tombstones of replicated groups are not purged (default: '${DEFAULT-VALUE}', daily at 02:00).")
  String schedule;

  @Option(names = "--repair-round-timeout", defaultValue = "20m", converter = DurationConverter.class,
      description = "Deadline of a repair round, all hops included, unless 'repair run --timeout' gives one (default: ${DEFAULT-VALUE}).")
  Duration roundTimeout;

  @Option(names = "--repair-session-timeout", defaultValue = "10m", converter = DurationConverter.class,
      description = "Upper bound of one two-node repair session (default: ${DEFAULT-VALUE}).")
  Duration sessionTimeout;

  @Option(names = "--repair-coalesce-ttl", defaultValue = "1h", converter = DurationConverter.class,
      description = "While a shard's round from one node is this recent, rounds of the shard from other nodes are turned away (default: ${DEFAULT-VALUE}).")
  Duration coalesceTtl;

  @Option(names = "--repair-trace-retention", defaultValue = "3d", converter = DurationConverter.class,
      description = "How long repair trace spans are kept on this node (default: ${DEFAULT-VALUE}).")
  Duration traceRetention;

  @Option(names = "--repair-workers", defaultValue = "2",
      description = "Repair rounds of different shards this node handles at once (default: ${DEFAULT-VALUE}).")
  int workers;

  @Option(names = "--max-clock-skew", defaultValue = "1m", converter = DurationConverter.class,
      description = "Largest clock difference between liaisons and data nodes tolerated: records (internal writes, repair) further ahead of this node's clock are refused, and a tombstone is purged only if its delete time is at least this much before the start of the last repair round that covered its shard (default: ${DEFAULT-VALUE}).")
  Duration maxClockSkew;

  @Option(names = "--repair-max-sessions", defaultValue = "16",
      description = "Repair sessions (other nodes' rounds) this node serves at once; one more is refused and the round tries another peer (default: ${DEFAULT-VALUE}).")
  int maxSessions;

  @Option(names = "--repair-session-idle-timeout", defaultValue = "5m", converter = DurationConverter.class,
      description = "End a served repair session when no message moved either way for this long (default: ${DEFAULT-VALUE}).")
  Duration sessionIdleTimeout;

  @Option(names = "--repair-bulk-transfer", defaultValue = "on", converter = OnOff.class, arity = "1",
      paramLabel = "on|off",
      description = "When a repair session finds the peer's copy of a shard empty (new node, replaced disk, replicas raised), send the Lucene files of a snapshot instead of records, checksum-verified and attached by the receiver; the session then compares trees as usual. 'off' here: this node neither offers nor takes them (default: ${DEFAULT-VALUE}).")
  boolean bulkTransfer;

  /** Test only: lets a test stop a node in the middle of a bulk transfer. */
  @Option(names = "--repair-bulk-test-chunk-delay", defaultValue = "0ms", converter = DurationConverter.class,
      hidden = true)
  Duration bulkChunkDelay;

  /** "on" / "off". */
  static final class OnOff implements picocli.CommandLine.ITypeConverter<Boolean> {
    @Override
    public Boolean convert(String v) {
      return switch (v.trim().toLowerCase(java.util.Locale.ROOT)) {
        case "on", "true" -> true;
        case "off", "false" -> false;
        default -> throw new picocli.CommandLine.TypeConversionException("expected on or off, got '" + v + "'");
      };
    }
  }

  RepairConfig config() {
    if (workers < 1 || workers > 64) {
      throw new IllegalArgumentException("--repair-workers must be between 1 and 64");
    }
    if (!"off".equalsIgnoreCase(schedule.trim())) {
      try {
        BuildSchedule.parse(schedule);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("--repair-schedule: " + e.getMessage() + "; or 'off' to disable");
      }
    }
    for (var d : new Duration[] {roundTimeout, sessionTimeout, coalesceTtl, traceRetention}) {
      if (d.isZero() || d.isNegative()) {
        throw new IllegalArgumentException("repair durations must be > 0");
      }
    }
    if (maxClockSkew.isNegative()) {
      throw new IllegalArgumentException("--max-clock-skew must be >= 0");
    }
    if (maxSessions < 1) {
      throw new IllegalArgumentException("--repair-max-sessions must be >= 1");
    }
    if (sessionIdleTimeout.isZero() || sessionIdleTimeout.isNegative()) {
      throw new IllegalArgumentException("--repair-session-idle-timeout must be > 0");
    }
    if (bulkChunkDelay.isNegative()) {
      throw new IllegalArgumentException("--repair-bulk-test-chunk-delay must be >= 0");
    }
    return new RepairConfig(schedule, roundTimeout, sessionTimeout, coalesceTtl, traceRetention, workers, maxClockSkew,
        maxSessions, sessionIdleTimeout).withBulk(new dev.arbor.repair.sync.BulkSettings(bulkTransfer, bulkChunkDelay));
  }
}
