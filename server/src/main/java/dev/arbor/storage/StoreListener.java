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

  /** All data of the group was removed. */
  void onGroupDropped(String group);

  /** The copy of one shard was removed (this node handed it off: it no longer owns it). */
  default void onShardDropped(String group, int shard) {}
}
