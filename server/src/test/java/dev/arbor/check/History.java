package dev.arbor.check;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The operations clients ran against one store, per key, with their outcomes and real-time
 * bounds. Writes carry a value unique in the whole history, so the value a replica holds names
 * the write that produced it. Thread-safe: many client threads record at once.
 */
public final class History {
  /** What a client was told. UNKNOWN: an error after which the write may or may not have landed. */
  public enum Outcome { ACKED, FAILED, UNKNOWN }

  /** A write (value != null) or a delete (value == null) of one key. */
  public record Op(long id, String key, String value, long invokedAt, long completedAt, Outcome outcome) {
    public boolean isDelete() {
      return value == null;
    }

    @Override
    public String toString() {
      return "#" + id + " " + (isDelete() ? "delete" : "write " + value) + " of " + key + " " + outcome
          + " [" + invokedAt + ".." + completedAt + "]";
    }
  }

  /** An operation in flight: call {@link #end} once its outcome is known. */
  public final class Pending {
    private final long id;
    private final String key;
    private final String value;
    private final long invokedAt;

    private Pending(long id, String key, String value, long invokedAt) {
      this.id = id;
      this.key = key;
      this.value = value;
      this.invokedAt = invokedAt;
    }

    public Op end(Outcome outcome) {
      Op op = new Op(id, key, value, invokedAt, ticks.incrementAndGet(), outcome);
      synchronized (byKey) {
        byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(op);
      }
      return op;
    }
  }

  /** Logical time: every invocation and completion takes the next tick, so real-time order is exact. */
  private final AtomicLong ticks = new AtomicLong();
  private final AtomicLong ids = new AtomicLong();
  private final Map<String, List<Op>> byKey = new LinkedHashMap<>();

  public Pending beginWrite(String key, String value) {
    if (value == null) {
      throw new IllegalArgumentException("a write needs a value");
    }
    return new Pending(ids.incrementAndGet(), key, value, ticks.incrementAndGet());
  }

  public Pending beginDelete(String key) {
    return new Pending(ids.incrementAndGet(), key, null, ticks.incrementAndGet());
  }

  /** A delete of every key in {@code keys} at once (e.g. their group dropped): call {@link PendingAll#end}. */
  public PendingAll beginDeleteAll(List<String> keys) {
    return new PendingAll(List.copyOf(keys), ticks.incrementAndGet());
  }

  /** A delete of many keys in flight. */
  public final class PendingAll {
    private final List<String> keys;
    private final long invokedAt;

    private PendingAll(List<String> keys, long invokedAt) {
      this.keys = keys;
      this.invokedAt = invokedAt;
    }

    public void end(Outcome outcome) {
      long completed = ticks.incrementAndGet();
      synchronized (byKey) {
        for (String k : keys) {
          byKey.computeIfAbsent(k, x -> new ArrayList<>())
              .add(new Op(ids.incrementAndGet(), k, null, invokedAt, completed, outcome));
        }
      }
    }
  }

  public List<String> keys() {
    synchronized (byKey) {
      return List.copyOf(byKey.keySet());
    }
  }

  public List<Op> ops(String key) {
    synchronized (byKey) {
      return Collections.unmodifiableList(new ArrayList<>(byKey.getOrDefault(key, List.of())));
    }
  }

  /** Count of operations with that outcome, all keys. */
  public long count(Outcome outcome) {
    synchronized (byKey) {
      return byKey.values().stream().flatMap(List::stream).filter(o -> o.outcome() == outcome).count();
    }
  }
}
