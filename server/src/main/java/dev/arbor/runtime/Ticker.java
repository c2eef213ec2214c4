package dev.arbor.runtime;

/**
 * A monotonic time source in nanoseconds, for measuring elapsed time and deadlines within one
 * process; its origin is arbitrary, so only differences mean anything.
 */
@FunctionalInterface
public interface Ticker {
  /** {@link System#nanoTime()}. */
  Ticker SYSTEM = System::nanoTime;

  long read();

  static Ticker system() {
    return SYSTEM;
  }
}
