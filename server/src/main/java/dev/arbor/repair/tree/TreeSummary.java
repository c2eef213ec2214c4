package dev.arbor.repair.tree;

import java.util.List;

/** The top of a tree: header, root hash, every slot, and the total number of leaves. */
public record TreeSummary(TreeHeader header, byte[] root, List<SlotSummary> slots, long leafCount) {
  public String rootHex() {
    return TreeHasher.hex(root);
  }
}
