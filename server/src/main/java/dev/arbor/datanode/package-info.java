/**
 * The data node's internal gRPC API ({@code arbor.cluster.v1.DataNodeService}) over its store:
 * last-write-wins writes, reads of latest copies, shard queries; and keeping the node's group data
 * in line with metadata events ({@link dev.arbor.datanode.GroupDataKeeper}). No routing: that is
 * the liaison's.
 */
package dev.arbor.datanode;
