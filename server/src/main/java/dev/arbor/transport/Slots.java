package dev.arbor.transport;

import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fixed number of slots, taken without waiting: work that finds none free is refused at once
 * (the caller answers RESOURCE_EXHAUSTED) instead of queueing without bound. Counts refusals.
 * Used by the server's {@link CallLimiter} and by the liaison's fan-out to data nodes.
 */
public final class Slots {
  private final int capacity;
  private final Semaphore free;
  private final AtomicLong refused = new AtomicLong();

  public Slots(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
    }
    this.capacity = capacity;
    this.free = new Semaphore(capacity);
  }

  /** Takes {@code n} slots, all or none: false (counted as one refusal) when fewer are free. */
  public boolean tryTake(int n) {
    if (n <= capacity && free.tryAcquire(n)) {
      return true;
    }
    refused.incrementAndGet();
    return false;
  }

  public void release(int n) {
    free.release(n);
  }

  public int capacity() {
    return capacity;
  }

  /** Slots taken now. */
  public int inUse() {
    return capacity - free.availablePermits();
  }

  /** Refusals since start. */
  public long refused() {
    return refused.get();
  }
}
