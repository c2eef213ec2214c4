package dev.arbor.errors;

/**
 * A failure of the node's own I/O (disk, metadata store): the caller is told only that it happened
 * and where to look in the log, never the details, which name files and internals.
 */
public abstract class IoFailureException extends ArborException {
  protected IoFailureException(String message) {
    super(message);
  }

  protected IoFailureException(String message, Throwable cause) {
    super(message, cause);
  }
}
