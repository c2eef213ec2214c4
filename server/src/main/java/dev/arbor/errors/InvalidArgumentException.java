package dev.arbor.errors;

/** A request field is malformed or violates a limit; the message names the field. */
public final class InvalidArgumentException extends ArborException {
  public InvalidArgumentException(String message) {
    super(message);
  }

  public InvalidArgumentException(String message, Throwable cause) {
    super(message, cause);
  }
}
