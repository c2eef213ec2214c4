package dev.arbor.storage;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fans storage events out to listeners. Created before the store and the components that listen
 * (tree build triggers), so neither needs the other to be built first.
 */
public final class StoreEvents implements StoreListener {
  private static final Logger LOG = LoggerFactory.getLogger(StoreEvents.class);
  private final List<StoreListener> listeners = new CopyOnWriteArrayList<>();

  public void subscribe(StoreListener l) {
    listeners.add(l);
  }

  @Override
  public void onWrite(String group, int shard) {
    for (StoreListener l : listeners) {
      try {
        l.onWrite(group, shard);
      } catch (RuntimeException e) {
        LOG.error("store listener failed on write to {}/{}", group, shard, e);
      }
    }
  }

  @Override
  public void onRecordsWritten(String group, int shard, List<WrittenRecord> written) {
    for (StoreListener l : listeners) {
      try {
        l.onRecordsWritten(group, shard, written);
      } catch (RuntimeException e) {
        LOG.error("store listener failed on records written to {}/{}", group, shard, e);
        l.onUntrackedChange(group, shard);
      }
    }
  }

  @Override
  public void onUntrackedChange(String group, int shard) {
    for (StoreListener l : listeners) {
      try {
        l.onUntrackedChange(group, shard);
      } catch (RuntimeException e) {
        LOG.error("store listener failed on an untracked change of {}/{}", group, shard, e);
      }
    }
  }

  @Override
  public void beforeUntrackedChange(String group, int shard) {
    for (StoreListener l : listeners) {
      try {
        l.beforeUntrackedChange(group, shard);
      } catch (RuntimeException e) {
        LOG.error("store listener failed before an untracked change of {}/{}", group, shard, e);
      }
    }
  }

  @Override
  public void beforeWalTruncated() {
    for (StoreListener l : listeners) {
      try {
        l.beforeWalTruncated();
      } catch (RuntimeException e) {
        LOG.error("store listener failed before the write-ahead log was truncated", e);
      }
    }
  }

  @Override
  public void onShardCreated(String group, int shard) {
    for (StoreListener l : listeners) {
      try {
        l.onShardCreated(group, shard);
      } catch (RuntimeException e) {
        LOG.error("store listener failed on creation of {}/{}", group, shard, e);
      }
    }
  }

  @Override
  public void onGroupDropped(String group) {
    for (StoreListener l : listeners) {
      try {
        l.onGroupDropped(group);
      } catch (RuntimeException e) {
        LOG.error("store listener failed on drop of {}", group, e);
      }
    }
  }

  @Override
  public void onShardDropped(String group, int shard) {
    for (StoreListener l : listeners) {
      try {
        l.onShardDropped(group, shard);
      } catch (RuntimeException e) {
        LOG.error("store listener failed on drop of {}/{}", group, shard, e);
      }
    }
  }
}
