package dev.arbor.errors;

/** The request lost a conflict with concurrent writers; retrying it may succeed. */
public final class AbortedException extends ArborException {
  public AbortedException(String message) {
    super(message);
  }
}
