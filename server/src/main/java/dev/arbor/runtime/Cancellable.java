package dev.arbor.runtime;

/** A scheduled task that may still be called off. */
@FunctionalInterface
public interface Cancellable {
  /** Stops future runs of the task; a run already under way finishes. */
  void cancel();
}
