/**
 * Merkle repair trees per (group, shard): hashing, the versioned tree file (writer and reader side
 * by side), builds from a Lucene commit snapshot, build state and build triggers. Knows nothing
 * of the repair stream or gossip; reads storage only through snapshots.
 */
package dev.arbor.repair.tree;
