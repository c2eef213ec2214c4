package dev.arbor.errors;

/** A group, schema or property that the request names does not exist. */
public final class NotFoundException extends ArborException {
  public NotFoundException(String message) {
    super(message);
  }

  public NotFoundException(String message, Throwable cause) {
    super(message, cause);
  }
}
