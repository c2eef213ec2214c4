package dev.arbor.storage.format;

import java.io.IOException;

/** A file's header or footer failed a check; {@link #problem()} says how, the message says it for people. */
public final class FileFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  /** What is wrong with the file. */
  public enum Problem {
    /** No Arbor magic: not a file Arbor wrote. */
    NOT_ARBOR,
    /** An Arbor file of another kind. */
    WRONG_KIND,
    /** Written by a newer build. */
    TOO_NEW,
    /** Older than this build can read. */
    TOO_OLD,
    /** A checksum does not match. */
    CORRUPT,
    /** The file ends before its header or footer does. */
    TRUNCATED
  }

  private final Problem problem;

  FileFormatException(Problem problem, String message) {
    super(message);
    this.problem = problem;
  }

  public Problem problem() {
    return problem;
  }
}
