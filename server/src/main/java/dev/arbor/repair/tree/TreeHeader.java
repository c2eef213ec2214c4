package dev.arbor.repair.tree;

/**
 * What a tree file describes.
 *
 * @param group the group
 * @param shard the shard
 * @param slotCount number of slots
 * @param snapshotId commit generation of the Lucene snapshot the tree was built from (0: empty index)
 * @param buildTimeMillis when the build finished (epoch ms)
 */
public record TreeHeader(String group, int shard, int slotCount, long snapshotId, long buildTimeMillis) {}
