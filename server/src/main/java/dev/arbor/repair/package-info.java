/**
 * Repair orchestration: rounds this node originates ({@link dev.arbor.repair.RepairRounds}), the
 * scheduled trigger, and the admin endpoints (forced tree builds, run a round, traces). Drives
 * {@code repair.gossip} and {@code repair.tree}; never touches Lucene directly.
 */
package dev.arbor.repair;
