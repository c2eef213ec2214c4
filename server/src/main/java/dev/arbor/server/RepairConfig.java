package dev.arbor.server;

import dev.arbor.repair.handoff.HandOffSettings;
import java.time.Duration;

/**
 * Background repair settings of a data node.
 *
 * @param schedule when the node starts rounds for the shards it schedules (cron, @daily, "@every 1h",
 *     or "off")
 * @param roundTimeout deadline of a round (all its hops) unless the caller gives one
 * @param sessionTimeout upper bound of one two-node session
 * @param coalesceTtl how long a shard's round from one origin keeps rounds from other origins out
 * @param traceRetention how long repair spans are kept
 * @param workers rounds of different shards this node handles at once
 * @param maxClockSkew clock difference between liaisons and data nodes tolerated
 * @param maxSessions repair sessions this node serves at once
 * @param sessionIdleTimeout a served session where nothing moved for this long is ended
 * @param handOff how copies this node no longer owns are detected and handed to the owners
 * @param bulk bulk transfer of Lucene files to empty replicas ({@code --repair-bulk-transfer})
 */
public record RepairConfig(
    String schedule, Duration roundTimeout, Duration sessionTimeout, Duration coalesceTtl, Duration traceRetention,
    int workers, Duration maxClockSkew, int maxSessions, Duration sessionIdleTimeout, HandOffSettings handOff,
    dev.arbor.repair.sync.BulkSettings bulk) {
  public static final int DEFAULT_WORKERS = 2;
  /** Clock difference between liaisons and data nodes tolerated (the purge rule's margin). */
  public static final Duration DEFAULT_MAX_CLOCK_SKEW = Duration.ofMinutes(1);
  /** Repair sessions a node serves at once (other nodes' rounds). */
  public static final int DEFAULT_MAX_SESSIONS = 16;
  /** Longer than a session's wait for its tree (2 minutes) before it answers. */
  public static final Duration DEFAULT_SESSION_IDLE_TIMEOUT = Duration.ofMinutes(5);
  public static final RepairConfig DEFAULTS = new RepairConfig(
      "0 2 * * *", Duration.ofMinutes(20), Duration.ofMinutes(10), Duration.ofHours(1), Duration.ofDays(3),
      DEFAULT_WORKERS, DEFAULT_MAX_CLOCK_SKEW, DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE_TIMEOUT,
      HandOffSettings.DEFAULTS, dev.arbor.repair.sync.BulkSettings.DEFAULTS);

  public RepairConfig(String schedule, Duration roundTimeout, Duration sessionTimeout, Duration coalesceTtl,
      Duration traceRetention, int workers, Duration maxClockSkew, int maxSessions, Duration sessionIdleTimeout,
      HandOffSettings handOff) {
    this(schedule, roundTimeout, sessionTimeout, coalesceTtl, traceRetention, workers, maxClockSkew, maxSessions,
        sessionIdleTimeout, handOff, dev.arbor.repair.sync.BulkSettings.DEFAULTS);
  }

  public RepairConfig withBulk(dev.arbor.repair.sync.BulkSettings b) {
    return new RepairConfig(schedule, roundTimeout, sessionTimeout, coalesceTtl, traceRetention, workers, maxClockSkew,
        maxSessions, sessionIdleTimeout, handOff, b);
  }

  public RepairConfig(String schedule, Duration roundTimeout, Duration sessionTimeout, Duration coalesceTtl,
      Duration traceRetention, int workers, Duration maxClockSkew, int maxSessions, Duration sessionIdleTimeout) {
    this(schedule, roundTimeout, sessionTimeout, coalesceTtl, traceRetention, workers, maxClockSkew, maxSessions,
        sessionIdleTimeout, HandOffSettings.DEFAULTS);
  }

  public RepairConfig(String schedule, Duration roundTimeout, Duration sessionTimeout, Duration coalesceTtl,
      Duration traceRetention, int workers, Duration maxClockSkew) {
    this(schedule, roundTimeout, sessionTimeout, coalesceTtl, traceRetention, workers, maxClockSkew,
        DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_IDLE_TIMEOUT);
  }

  public RepairConfig withMaxClockSkew(Duration skew) {
    return new RepairConfig(schedule, roundTimeout, sessionTimeout, coalesceTtl, traceRetention, workers, skew,
        maxSessions, sessionIdleTimeout, handOff, bulk);
  }

  public RepairConfig withHandOff(HandOffSettings h) {
    return new RepairConfig(schedule, roundTimeout, sessionTimeout, coalesceTtl, traceRetention, workers, maxClockSkew,
        maxSessions, sessionIdleTimeout, h, bulk);
  }

  public RepairConfig(String schedule, Duration roundTimeout, Duration sessionTimeout, Duration coalesceTtl,
      Duration traceRetention, int workers) {
    this(schedule, roundTimeout, sessionTimeout, coalesceTtl, traceRetention, workers, DEFAULT_MAX_CLOCK_SKEW);
  }

  public RepairConfig(String schedule, Duration roundTimeout, Duration sessionTimeout, Duration coalesceTtl,
      Duration traceRetention) {
    this(schedule, roundTimeout, sessionTimeout, coalesceTtl, traceRetention, DEFAULT_WORKERS);
  }

  public boolean scheduled() {
    return !"off".equalsIgnoreCase(schedule.trim());
  }
}
