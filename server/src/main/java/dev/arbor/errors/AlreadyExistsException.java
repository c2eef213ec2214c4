package dev.arbor.errors;

/** A create request names something that already exists. */
public final class AlreadyExistsException extends ArborException {
  public AlreadyExistsException(String message) {
    super(message);
  }

  public AlreadyExistsException(String message, Throwable cause) {
    super(message, cause);
  }
}
