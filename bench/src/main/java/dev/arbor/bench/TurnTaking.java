package dev.arbor.bench;

import java.util.List;

/**
 * Runs one step of the API benchmark (a warm-up, an apply level, a query scenario) on each of
 * several servers in turn, so that the builds compared see the same minutes of this noisy machine
 * (in the order of {@link Rotation}). With {@code pauseIdle}, only the server whose turn it is
 * runs; the others are paused ({@link ServerSide#pause}, when {@link ServerSide#pausable}) and take no CPU from the measurement.
 */
final class TurnTaking {

  /** One step on one server. */
  interface Step {
    void run(ApiTarget target) throws Exception;
  }

  private final List<ApiTarget> all;
  private final boolean pauseIdle;
  private ApiTarget running;

  TurnTaking(List<ApiTarget> all, boolean pauseIdle) {
    this.all = List.copyOf(all);
    this.pauseIdle = pauseIdle;
  }

  /** Pauses every server (when pausing): the first turn resumes the one it needs. */
  void pauseAll() {
    if (pauseIdle) {
      all.forEach(ApiTarget::pause);
      running = null;
    }
  }

  void resumeAll() {
    if (pauseIdle) {
      all.forEach(ApiTarget::resume);
    }
  }

  /** Runs {@code step} on each of {@code targets}, starting at position {@code index} (rotated). */
  void each(int index, List<ApiTarget> targets, Step step) throws Exception {
    for (ApiTarget t : Rotation.rotate(targets, index)) {
      switchTo(t);
      step.run(t);
    }
  }

  private void switchTo(ApiTarget t) {
    if (!pauseIdle || running == t) {
      return;
    }
    if (running != null) {
      running.pause();
    }
    t.resume();
    running = t;
  }
}
