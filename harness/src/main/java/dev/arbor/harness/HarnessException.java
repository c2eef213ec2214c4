package dev.arbor.harness;

/**
 * A process did not start, did not become ready in time, or did not stop as asked. The message
 * names the process and carries its log tail, so a failing test or benchmark shows why.
 */
public final class HarnessException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public HarnessException(String message) {
    super(message);
  }

  public HarnessException(String message, Throwable cause) {
    super(message, cause);
  }
}
