/**
 * Durable storage of property records on one node: the write-ahead log with group commit, one
 * Lucene index per (group, shard), recovery, checkpoints and tombstone purge, and the two ends of
 * a bulk copy of a shard's commit files ({@code ShardFiles} out, {@code BulkIntake} in). Knows
 * nothing of gRPC services, metadata or the repair protocol.
 */
package dev.arbor.storage;
