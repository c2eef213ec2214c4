package dev.arbor.property;

/**
 * The defects of the "deletes stay deleted, acknowledged writes stay written" issue, each of which
 * a test can switch back on through {@link DefectSwitches} to prove that a checker (the
 * deterministic simulator, a regression test) still catches it. <b>Test-only</b>: no flag,
 * configuration key or system property sets one; production composition roots pass
 * {@link DefectSwitches#NONE}, and with NONE every class behaves exactly as it does without the
 * switch. Each constant says where the old behaviour comes back and which constructor turns it on.
 */
public enum Defect {
  /**
   * Orphaned copies resurrect after purge: a node that left a shard's placement never marks its
   * copy an orphan, so the copy is not fenced from internal writes or repair, not handed off and
   * not dropped; when the node owns the shard again it serves and repairs from a copy that missed
   * deletes. Where: {@code repair.handoff.OrphanTracker} (scan and the long-absence mark).
   */
  ORPHAN_SERVES,
  /**
   * Tombstone purge not tied to repair coverage: a replicated shard's tombstones are purged on the
   * grace alone, as for a single copy. Where: {@code repair.coverage.CoveragePurgeCutoff}. (A
   * composition root may equally wire {@code PurgeCutoff.olderThan(clock, grace)} directly; the
   * round scheduler's coverage of every shard stays as it is.)
   */
  PURGE_WITHOUT_COVERAGE,
  /**
   * A delete keeps the deleted version's revision ({@code prev.tombstone(now)}) instead of a fresh
   * revision above the winner it read, so a newer version its pre-read missed beats it. Where:
   * {@code liaison.ReplicatedWrites} (cluster) and {@code liaison.PropertyDeleter} (standalone).
   */
  TOMBSTONE_KEEPS_OLD_REVISION,
  /**
   * The liaison counts a replica's ack on RPC success and ignores the per-record outcome: a replica
   * that kept a newer version (NOT_STORED_NEWER) or rejected the record still acknowledges, and no
   * re-read/retry happens. Where: {@code liaison.ReplicatedWrites}.
   */
  ACK_IGNORES_STORED,
  /**
   * Group incarnations ignored: data of a group deleted and re-created under the same name, held by
   * a node that missed the delete, adopts metadata's new incarnation (at open and on reconcile)
   * instead of being quarantined, so it is served and repaired into the new group. Where:
   * {@code storage.PropertyStore} (open and reconcile); every check downstream (internal writes,
   * repair sessions, the liaison's read filter) then sees matching incarnations.
   */
  INCARNATION_IGNORED,
  /**
   * Last-write-wins without the content-hash tie-break: equal revision, deleted flag and delete
   * time with different bytes compare equal, so replicas holding different versions never
   * converge. Where: {@code storage.PropertyStore} (apply and WAL replay), through
   * {@link LastWriteWins#order(DefectSwitches)}.
   */
  NO_CONTENT_TIE_BREAK,
  /**
   * Grace measured on two clocks: a fresh delete (stamped by the liaison for that call) whose delete
   * time lies further behind the data node's clock than the skew bound is accepted, so a liaison
   * whose clock runs behind shortens the tombstone's grace. Where:
   * {@code datanode.DataNodeGrpcService} (the Write's fresh-delete check).
   */
  FRESH_DELETE_CLOCK_UNCHECKED,
  /**
   * A failed fsync during a WAL segment roll is rethrown but does not latch the log, and a
   * group-commit fsync that completes after it still acknowledges writes whose pages the failed
   * fsync may have dropped. Where: {@code storage.WriteAheadLog#roll} and its sync loop.
   */
  WAL_ROLL_DOES_NOT_LATCH,
  /**
   * WAL replay puts every frame unconditionally, in log order, so an old frame replayed over a
   * newer committed document replaces it. Where: {@code storage.PropertyStore} recovery.
   */
  WAL_REPLAY_UNCONDITIONAL_PUT,
  /**
   * Repair records are checked for their shard label only, not for whether the entity routes to
   * that shard, so a misrouted record is stored in the wrong shard. Where:
   * {@code repair.sync.RecordCodec} (both session ends, through {@code ShardCheck#defects()}).
   */
  NO_ROUTING_CHECK,
  /**
   * A repair session that rejected records still completes: the client's hop and round report
   * success and the server ends the session without error (the rejections are only counted).
   * Where: {@code repair.sync.RepairSessionClient} and {@code RepairSessionServer} (through
   * {@code ShardCheck#defects()}).
   */
  REJECTED_RECORDS_COMPLETE,
  /**
   * A limited cluster query does not refill: each node returns its top {@code limit} rows, stale
   * candidates are dropped afterwards, and the answer can hold fewer rows than exist. Where:
   * {@code liaison.ReplicatedQueries}.
   */
  QUERY_NO_REFILL
}
