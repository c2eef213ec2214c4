package dev.arbor.errors;

/**
 * A write failed after it was logged durably: it may or may not take effect, and the caller cannot
 * tell which. Never retried silently; the message says what is known.
 */
public final class WriteOutcomeUnknownException extends ArborException {
  public WriteOutcomeUnknownException(String message, Throwable cause) {
    super(message, cause);
  }
}
