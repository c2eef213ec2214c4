/**
 * Repair coverage: which rounds brought every replica of a shard to the same data, the per-shard
 * watermark each replica keeps of the latest one (persisted), how the round's origin tells the
 * ring, and the purge rule that follows from it (a tombstone of a replicated shard goes only once
 * every replica holds the delete). Knows placement and storage files; nothing of trees, sessions
 * or gossip.
 */
package dev.arbor.repair.coverage;
