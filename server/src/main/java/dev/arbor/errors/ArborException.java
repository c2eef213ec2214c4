package dev.arbor.errors;

/** Base of Arbor's domain exceptions; the message is what a user reads. */
public abstract class ArborException extends RuntimeException {
  protected ArborException(String message) {
    super(message);
  }

  protected ArborException(String message, Throwable cause) {
    super(message, cause);
  }
}
