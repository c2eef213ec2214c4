package dev.arbor.repair.tree;

/**
 * What the last successful build of a shard's tree read and produced, persisted as
 * {@code state.json} beside the tree file.
 *
 * @param format format of this JSON (1); the file around it has its own format ({@link BuildStateFile})
 * @param group the group
 * @param shard the shard
 * @param slotCount slots of the tree
 * @param snapshotId commit generation that was read (0: never committed)
 * @param builtAt when the build finished, ISO-8601
 * @param leafCount leaves in the tree
 * @param root root hash, hex
 */
public record BuildState(
    int format, String group, int shard, int slotCount, long snapshotId, String builtAt, long leafCount, String root) {
  public static final int FORMAT = 1;
}
