package dev.arbor.liaison;

import dev.arbor.property.EntityKey;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One lock per key being written, made on first use and dropped when its last user leaves: only
 * writers of the same key wait for each other. (Striped locks made unrelated keys that share a
 * stripe wait out each other's round trips too.) Memory grows with the keys being written at once,
 * which the liaison's fan-out bound caps.
 */
final class KeyLocks {
  private static final class Entry {
    final ReentrantLock lock = new ReentrantLock();
    /** Holders and waiters; changed only inside the map's compute for the key. */
    int users;
  }

  /** A held lock; closing it releases it. */
  interface Held extends AutoCloseable {
    @Override
    void close();
  }

  private final ConcurrentHashMap<EntityKey, Entry> entries = new ConcurrentHashMap<>();

  Held lock(EntityKey key) {
    Entry e = entries.compute(key, (k, had) -> {
      Entry use = had == null ? new Entry() : had;
      use.users++;
      return use;
    });
    try {
      e.lock.lock();
    } catch (RuntimeException | Error t) {
      leave(key);
      throw t;
    }
    return () -> {
      e.lock.unlock();
      leave(key);
    };
  }

  private void leave(EntityKey key) {
    entries.computeIfPresent(key, (k, e) -> --e.users == 0 ? null : e);
  }

  /** Keys locked or waited for now. */
  int size() {
    return entries.size();
  }
}
