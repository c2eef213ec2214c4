package dev.arbor.repair.tree;

/** A shard's tree could not be made current (build failed, shutdown, or held by another build). */
public final class TreeUnavailableException extends RuntimeException {
  public TreeUnavailableException(String message) {
    super(message);
  }
}
