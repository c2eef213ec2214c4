package dev.arbor.storage;

/** Checked before every durable write: may refuse it before anything is logged. */
@FunctionalInterface
public interface WriteGuard {
  WriteGuard NONE = () -> {};

  /** @throws dev.arbor.errors.ResourceExhaustedException when writes must be refused now */
  void check();
}
