package dev.arbor.errors;

/** The request is valid but the system is not in a state to serve it. */
public final class FailedPreconditionException extends ArborException {
  public FailedPreconditionException(String message) {
    super(message);
  }

  public FailedPreconditionException(String message, Throwable cause) {
    super(message, cause);
  }
}
