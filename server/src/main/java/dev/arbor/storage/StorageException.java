package dev.arbor.storage;

import dev.arbor.errors.IoFailureException;

/** An I/O failure of the storage layer; the write it concerns was not acknowledged. */
public final class StorageException extends IoFailureException {
  public StorageException(String message, Throwable cause) {
    super(message, cause);
  }

  public StorageException(String message) {
    super(message);
  }
}
