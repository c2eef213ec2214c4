/**
 * Durable storage of property records on one node: the write-ahead log with group commit, one
 * Lucene index per (group, shard), recovery, checkpoints and tombstone purge. Knows nothing of
 * gRPC services, metadata or repair.
 */
package dev.arbor.storage;
