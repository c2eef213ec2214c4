package dev.arbor.harness;

import java.time.Duration;
import java.util.function.Supplier;

/** Bounded polling: the harness's only way of waiting for a process. */
public final class Poll {
  /** A condition checked on every poll; it may throw {@link HarnessException} to stop at once. */
  @FunctionalInterface
  public interface Condition {
    boolean met() throws Exception;
  }

  private Poll() {}

  /**
   * Checks {@code condition} every {@code interval} until it holds; after {@code timeout} fails
   * with "{@code what} not within N s" followed by {@code diagnostics} (a log tail). A {@link
   * HarnessException} from the condition ends the wait at once; other exceptions count as "not
   * yet".
   */
  public static void until(String what, Duration timeout, Duration interval, Condition condition,
      Supplier<String> diagnostics) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception lastError = null;
    while (true) {
      try {
        if (condition.met()) {
          return;
        }
      } catch (HarnessException e) {
        throw e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new HarnessException("interrupted waiting for " + what, e);
      } catch (Exception e) {
        lastError = e;
      }
      if (System.nanoTime() - deadline >= 0) {
        throw new HarnessException(what + ": not within " + timeout.toMillis() / 1000.0 + " s"
            + (lastError == null ? "" : " (last error: " + lastError + ")") + "\n"
            + diagnostics.get(), lastError);
      }
      sleep(interval);
    }
  }

  static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HarnessException("interrupted", e);
    }
  }
}
