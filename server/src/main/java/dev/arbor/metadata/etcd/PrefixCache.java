package dev.arbor.metadata.etcd;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A local copy of every key under one etcd prefix: loaded at start, kept current by a watch, and
 * rebuilt (re-list + re-watch from the listed revision) whenever the watch fails, retrying with a
 * bounded backoff until etcd answers again. Reads never touch etcd, so they keep serving the last
 * known values while etcd is away.
 *
 * <p>Every key remembers the etcd revision of its value (or of its deletion, until the watch has
 * passed it), so an event older than what the cache holds is ignored: writers apply their own
 * changes at once ({@link #applyLocal}) for read-your-writes, and the watch event that follows is a
 * no-op. Listeners get each change once, in order, on the cache's own thread.
 *
 * <p>Locking: the cache monitor guards the maps and is never held while calling jetcd (jetcd
 * calls our watch listener while holding its own lock). Watch (re)creation runs on the cache thread.
 */
final class PrefixCache<T> implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PrefixCache.class);
  private static final long MAX_BACKOFF_MS = 1_000;

  /**
   * Turns a stored value into T, or returns null for keys this cache does not care about; throws
   * when the value cannot be read or is invalid.
   */
  @FunctionalInterface
  interface Decoder<T> {
    T decode(String key, byte[] value) throws Exception;
  }

  /** A change of one key: {@code oldValue == null} on creation, {@code newValue == null} on deletion. */
  record Change<T>(String key, T oldValue, T newValue) {}

  private record Versioned<T>(T value, long modRevision) {}

  private final EtcdConnection conn;
  private final String prefix;
  private final ByteSequence prefixBytes;
  private final Decoder<T> decoder;
  private final ScheduledExecutorService exec;
  private final List<Consumer<Change<T>>> listeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<dev.arbor.metadata.MetadataRevision>> revisionListeners = new CopyOnWriteArrayList<>();
  private volatile dev.arbor.metadata.MetadataRevision lastRevision;
  /** Keys whose current value in etcd cannot be read, and why; their last good value (if any) stays. */
  private final Map<String, String> unreadable = new java.util.concurrent.ConcurrentHashMap<>();

  /** Thrown by {@link #decode} for a value that cannot be read: never taken as the key's absence. */
  private static final class UnreadableValue extends Exception {
    private static final long serialVersionUID = 1L;

    UnreadableValue() {
      super(null, null, false, false);
    }
  }
  private final ConcurrentSkipListMap<String, Versioned<T>> live = new ConcurrentSkipListMap<>();
  /** Deleted keys and the revision of their deletion; guarded by this. */
  private final Map<String, Long> tombstones = new HashMap<>();
  /** Highest revision the watch (or a re-list) has delivered; guarded by this. */
  private long revision;
  /** Identifies the current watch; events of any other are stale. Guarded by this. */
  private long generation;
  /** Only touched on the cache thread. */
  private Watch.Watcher watcher;
  private int failedAttempts;
  private volatile boolean resyncPending;
  private volatile boolean closed;

  PrefixCache(EtcdConnection conn, String prefix, String threadName, Decoder<T> decoder) {
    this.conn = conn;
    this.prefix = prefix;
    this.prefixBytes = EtcdConnection.bytes(prefix);
    this.decoder = decoder;
    this.exec =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, threadName);
              t.setDaemon(true);
              return t;
            });
  }

  /** Loads the prefix and starts the watch; throws {@code UnavailableException} if etcd does not answer. */
  void start() {
    GetResponse r = list("load " + prefix);
    long gen;
    List<Change<T>> changes;
    synchronized (this) {
      changes = replaceAll(r);
      gen = ++generation;
    }
    long from = r.getHeader().getRevision() + 1;
    try {
      exec.submit(() -> startWatch(gen, from)).get(conn.timeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw conn.unavailable("cannot start the watch on " + prefix + ": " + e, e);
    }
    dispatch(changes);
  }

  void addListener(Consumer<Change<T>> listener) {
    listeners.add(listener);
  }

  /** Calls {@code listener} with the last response header, and with every one after (before its changes). */
  void addRevisionListener(Consumer<dev.arbor.metadata.MetadataRevision> listener) {
    revisionListeners.add(listener);
    dev.arbor.metadata.MetadataRevision last = lastRevision;
    if (last != null) {
      listener.accept(last);
    }
  }

  private void seen(io.etcd.jetcd.Response.Header h) {
    if (h == null || h.getRevision() == 0) {
      return;
    }
    dev.arbor.metadata.MetadataRevision r = new dev.arbor.metadata.MetadataRevision(h.getClusterId(), h.getRevision());
    lastRevision = r;
    for (Consumer<dev.arbor.metadata.MetadataRevision> l : revisionListeners) {
      try {
        l.accept(r);
      } catch (RuntimeException e) {
        log.error("metadata revision listener failed on {}", r, e);
      }
    }
  }

  void removeListener(Consumer<Change<T>> listener) {
    listeners.remove(listener);
  }

  Optional<T> get(String key) {
    Versioned<T> v = live.get(key);
    return v == null ? Optional.empty() : Optional.of(v.value());
  }

  /** The etcd revision of the key's current value; 0 when the key has none. */
  long modRevision(String key) {
    Versioned<T> v = live.get(key);
    return v == null ? 0 : v.modRevision();
  }

  /** Values whose key starts with {@code keyPrefix}, in key order. */
  List<T> valuesWithPrefix(String keyPrefix) {
    List<T> out = new ArrayList<>();
    for (Versioned<T> v : live.subMap(keyPrefix, true, keyPrefix + Character.MAX_VALUE, false).values()) {
      out.add(v.value());
    }
    return out;
  }

  /** Applies a change this process has just committed at {@code rev} (null value = deleted). */
  void applyLocal(String key, T value, long rev) {
    List<Change<T>> changes = new ArrayList<>(1);
    synchronized (this) {
      apply(key, value, rev, changes);
      dispatchLocked(changes);
    }
  }

  /** Applies the deletion, committed at {@code rev}, of every key starting with {@code keyPrefix}. */
  void applyLocalDeletePrefix(String keyPrefix, long rev) {
    List<Change<T>> changes = new ArrayList<>();
    synchronized (this) {
      for (String key :
          List.copyOf(live.subMap(keyPrefix, true, keyPrefix + Character.MAX_VALUE, false).keySet())) {
        apply(key, null, rev, changes);
      }
      dispatchLocked(changes);
    }
  }

  /** Whether the watch is running (false while etcd is away and until the re-list succeeded). */
  boolean isWatching() {
    return !resyncPending && !closed;
  }

  // ---- watch ---------------------------------------------------------------------------------

  private void startWatch(long gen, long fromRevision) {
    synchronized (this) {
      if (gen != generation || closed) {
        return;
      }
    }
    WatchOption opt = WatchOption.builder().isPrefix(true).withRevision(fromRevision).build();
    watcher =
        conn.client()
            .getWatchClient()
            .watch(
                prefixBytes,
                opt,
                Watch.listener(
                    resp -> onWatch(gen, resp),
                    err -> exec.execute(() -> onWatchFailure(gen, EtcdConnection.describe(err))),
                    () -> exec.execute(() -> onWatchFailure(gen, "watch closed by the server"))));
  }

  private void onWatch(long gen, WatchResponse resp) {
    seen(resp.getHeader()); // before the changes: they are delivered later, on the cache thread
    List<Change<T>> changes = new ArrayList<>();
    synchronized (this) {
      if (gen != generation || closed) {
        return;
      }
      long last = revision;
      for (WatchEvent ev : resp.getEvents()) {
        KeyValue kv = ev.getKeyValue();
        String key = relative(kv.getKey());
        long rev = kv.getModRevision();
        last = Math.max(last, rev);
        if (ev.getEventType() == WatchEvent.EventType.DELETE) {
          apply(key, null, rev, changes);
        } else if (ev.getEventType() == WatchEvent.EventType.PUT) {
          try {
            T value = decode(key, kv.getValue().getBytes());
            if (value != null) {
              apply(key, value, rev, changes);
            }
          } catch (UnreadableValue e) {
            // The last good value stays.
          }
        }
      }
      advance(last);
      dispatchLocked(changes);
    }
    conn.markAvailable();
  }

  /** On the cache thread: the current watch failed; drop it and rebuild from a fresh list. */
  private void onWatchFailure(long gen, String reason) {
    synchronized (this) {
      if (gen != generation || closed) {
        return;
      }
      generation++; // no watch is current until the re-list succeeds
    }
    conn.markUnavailable("watch on " + prefix + ": " + reason);
    resyncPending = true;
    closeWatcher();
    resync();
  }

  /** On the cache thread: re-list and re-watch, or try again later. */
  private void resync() {
    if (closed) {
      return;
    }
    GetResponse r;
    try {
      r = list("re-list " + prefix);
    } catch (RuntimeException e) {
      long delay = Math.min(MAX_BACKOFF_MS, 100L << Math.min(failedAttempts++, 5));
      log.debug("re-list of {} failed ({}); next attempt in {} ms", prefix, e.getMessage(), delay);
      exec.schedule(this::resync, delay, TimeUnit.MILLISECONDS);
      return;
    }
    failedAttempts = 0;
    long gen;
    List<Change<T>> changes;
    synchronized (this) {
      if (closed) {
        return;
      }
      changes = replaceAll(r);
      gen = ++generation;
      dispatchLocked(changes);
    }
    startWatch(gen, r.getHeader().getRevision() + 1);
    resyncPending = false;
    log.info(
        "etcd watch on {} resumed at revision {} ({} changes caught up: {})",
        prefix,
        r.getHeader().getRevision(),
        changes.size(),
        changes.stream().map(c -> (c.newValue() == null ? "-" : "+") + c.key()).toList());
  }

  /** Lists the prefix; revision listeners hear of the answer before any change it brings is delivered. */
  private GetResponse list(String what) {
    GetResponse r = conn.call(
        () -> conn.client().getKVClient().get(prefixBytes, GetOption.builder().isPrefix(true).build()), what);
    seen(r.getHeader());
    return r;
  }

  private void closeWatcher() {
    Watch.Watcher w = watcher;
    watcher = null;
    if (w != null) {
      try {
        w.close();
      } catch (RuntimeException e) {
        log.debug("closing a failed watch on {}: {}", prefix, e.toString());
      }
    }
  }

  // ---- cache state (caller holds the monitor) ------------------------------------------------

  private List<Change<T>> replaceAll(GetResponse r) {
    long listed = r.getHeader().getRevision();
    List<Change<T>> changes = new ArrayList<>();
    if (listed < revision) {
      // etcd went back in time (restored or replaced): nothing we hold can be trusted.
      log.warn("etcd revision went back from {} to {} under {}; reloading", revision, listed, prefix);
      for (Map.Entry<String, Versioned<T>> e : live.entrySet()) {
        changes.add(new Change<>(e.getKey(), e.getValue().value(), null));
      }
      live.clear();
      tombstones.clear();
      revision = 0;
    }
    Set<String> seen = new HashSet<>();
    for (KeyValue kv : r.getKvs()) {
      String key = relative(kv.getKey());
      try {
        T value = decode(key, kv.getValue().getBytes());
        if (value != null) {
          seen.add(key);
          apply(key, value, kv.getModRevision(), changes);
        }
      } catch (UnreadableValue e) {
        seen.add(key); // present, if unreadable: its last good value stays, and it is no deletion
      }
    }
    for (Map.Entry<String, Versioned<T>> e : List.copyOf(live.entrySet())) {
      if (!seen.contains(e.getKey()) && e.getValue().modRevision() <= listed) {
        apply(e.getKey(), null, listed, changes);
      }
    }
    revision = Math.max(revision, listed);
    advance(listed);
    return changes;
  }

  private void apply(String key, T value, long rev, List<Change<T>> out) {
    Versioned<T> cur = live.get(key);
    long known = cur != null ? cur.modRevision() : tombstones.getOrDefault(key, 0L);
    if (rev <= known) {
      return;
    }
    if (unreadable.remove(key) != null) {
      log.warn("etcd value at {}{} is readable again (or deleted) at revision {}", prefix, key, rev);
    }
    if (value == null) {
      tombstones.put(key, rev);
      if (cur != null) {
        live.remove(key);
        out.add(new Change<>(key, cur.value(), null));
      }
    } else {
      tombstones.remove(key);
      live.put(key, new Versioned<>(value, rev));
      out.add(new Change<>(key, cur == null ? null : cur.value(), value));
    }
  }

  /** The watch has delivered everything up to {@code rev}: tombstones at or below it are no longer needed. */
  private void advance(long rev) {
    revision = Math.max(revision, rev);
    long r = revision;
    tombstones.values().removeIf(t -> t <= r);
  }

  private T decode(String key, byte[] bytes) throws UnreadableValue {
    try {
      return decoder.decode(key, bytes);
    } catch (Exception e) {
      String why = e.getMessage() == null ? e.toString() : e.getMessage();
      if (!why.equals(unreadable.put(key, why))) {
        log.error("METADATA VALUE UNREADABLE at {}{}: {}. The last good value{} is kept; fix or delete the key in"
            + " etcd (arbor_metadata_unreadable_values counts such keys)", prefix, key, why,
            live.containsKey(key) ? "" : " (none: the item is unknown to this process)");
      }
      throw new UnreadableValue();
    }
  }

  /** Keys whose value in etcd cannot be read or is invalid, and why. */
  Map<String, String> unreadable() {
    return Map.copyOf(unreadable);
  }

  private String relative(ByteSequence key) {
    String k = key.toString(StandardCharsets.UTF_8);
    return k.startsWith(prefix) ? k.substring(prefix.length()) : k;
  }

  // ---- listeners -----------------------------------------------------------------------------

  /** Queues changes in order; the caller holds the monitor, so queue order = apply order. */
  private void dispatchLocked(List<Change<T>> changes) {
    if (!changes.isEmpty() && !listeners.isEmpty() && !closed) {
      List<Change<T>> copy = List.copyOf(changes);
      exec.execute(() -> deliver(copy));
    }
  }

  private void dispatch(List<Change<T>> changes) {
    synchronized (this) {
      dispatchLocked(changes);
    }
  }

  private void deliver(List<Change<T>> changes) {
    for (Change<T> c : changes) {
      for (Consumer<Change<T>> l : listeners) {
        try {
          l.accept(c);
        } catch (RuntimeException e) {
          log.warn("metadata listener failed on {}{}: {}", prefix, c.key(), e.toString(), e);
        }
      }
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      generation++;
    }
    try {
      exec.submit(this::closeWatcher).get(conn.timeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      log.debug("closing the watch on {}: {}", prefix, e.toString());
    }
    exec.shutdownNow();
  }
}
