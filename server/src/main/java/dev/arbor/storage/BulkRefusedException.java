package dev.arbor.storage;

/** A bulk transfer into a shard was refused; the message says why (the sender falls back to records). */
public final class BulkRefusedException extends RuntimeException {
  public BulkRefusedException(String reason) {
    super(reason);
  }
}
