package dev.arbor.repair.tree;

/**
 * One slot of a tree as stored in the slot table.
 *
 * @param index slot index
 * @param hash slot hash ({@link TreeHasher})
 * @param leafCount leaves in the slot
 * @param leavesOffset file offset of the slot's first leaf record
 * @param leavesLength bytes of the slot's leaf records
 * @param leavesCrc CRC32C of those bytes
 */
public record SlotSummary(int index, byte[] hash, int leafCount, long leavesOffset, long leavesLength, int leavesCrc) {}
