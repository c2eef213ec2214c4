/**
 * Cluster topology: data node identities, placement of (group, shard) copies on the registered
 * data nodes, and write consistency levels. Must not touch storage internals or gRPC services.
 */
package dev.arbor.cluster;
