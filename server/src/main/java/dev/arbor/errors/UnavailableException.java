package dev.arbor.errors;

/** A component needed to serve the request cannot be reached right now. */
public final class UnavailableException extends ArborException {
  public UnavailableException(String message) {
    super(message);
  }

  public UnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
