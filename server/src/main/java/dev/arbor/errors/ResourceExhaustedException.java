package dev.arbor.errors;

/** A limit of this node is reached (disk, capacity): nothing was done; retry later or elsewhere. */
public final class ResourceExhaustedException extends ArborException {
  public ResourceExhaustedException(String message) {
    super(message);
  }
}
