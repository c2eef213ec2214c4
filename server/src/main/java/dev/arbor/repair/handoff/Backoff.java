package dev.arbor.repair.handoff;

import java.time.Duration;

/** Waits between push attempts; returns false when the wait was cut short by shutdown. */
@FunctionalInterface
public interface Backoff {
  boolean await(Duration d);
}
