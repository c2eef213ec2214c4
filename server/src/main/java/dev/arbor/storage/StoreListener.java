package dev.arbor.storage;

/** Notified after storage changes; implementations must be quick and must not block. */
public interface StoreListener {
  /** A write to (group, shard) was made durable. */
  void onWrite(String group, int shard);

  /** All data of the group was removed. */
  void onGroupDropped(String group);

  /** The copy of one shard was removed (this node handed it off: it no longer owns it). */
  default void onShardDropped(String group, int shard) {}
}
