package dev.arbor.storage;

import dev.arbor.errors.ArborException;

/** An I/O failure of the storage layer; the write it concerns was not acknowledged. */
public final class StorageException extends ArborException {
  public StorageException(String message, Throwable cause) {
    super(message, cause);
  }

  public StorageException(String message) {
    super(message);
  }
}
