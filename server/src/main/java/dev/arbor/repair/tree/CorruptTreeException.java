package dev.arbor.repair.tree;

import java.io.IOException;

/** A tree file failed a format or checksum check; it must be rebuilt, never served. */
public final class CorruptTreeException extends IOException {
  public CorruptTreeException(String message) {
    super(message);
  }
}
