package dev.arbor.storage;

/** Notified after storage changes; implementations must be quick and must not block. */
public interface StoreListener {
  /** A write to (group, shard) was made durable. */
  void onWrite(String group, int shard);

  /**
   * Records stored in (group, shard), each with its predecessor. Called under the keys' locks and
   * the store's write gate, after the index applied them: for one key, notices arrive in write
   * order, and none straddles {@link PropertyStore#commitAndSnapshot}'s commit.
   */
  default void onRecordsWritten(String group, int shard, java.util.List<WrittenRecord> written) {}

  /**
   * Documents of (group, shard) changed without per-record notices (tombstone purge, bulk attach,
   * a write whose outcome is unknown): state derived per record must be rebuilt from the index.
   */
  default void onUntrackedChange(String group, int shard) {}

  /**
   * Documents of (group, shard) are about to change without per-record notices ({@link
   * #onUntrackedChange} follows, also when the change fails): persisted state derived per record
   * must stop claiming to describe the shard before the change can reach a commit.
   */
  default void beforeUntrackedChange(String group, int shard) {}

  /**
   * Every index is committed and the WAL segments before {@link PropertyStore#walSegment()} are
   * about to be deleted: state derived from writes that must be recovered after a crash without
   * re-reading the index has to be persisted now, or it can no longer be completed from the WAL.
   * Called under the store's checkpoint lock; writes continue meanwhile.
   */
  default void beforeWalTruncated() {}

  /**
   * The index of (group, shard) was just created, empty, on this node (not opened from disk).
   * Called while the store creates it: no write to it can be stored, or notified, before this
   * returns, so state derived per record may start from "empty" here without missing one.
   */
  default void onShardCreated(String group, int shard) {}

  /** All data of the group was removed. */
  void onGroupDropped(String group);

  /** The copy of one shard was removed (this node handed it off: it no longer owns it). */
  default void onShardDropped(String group, int shard) {}
}
