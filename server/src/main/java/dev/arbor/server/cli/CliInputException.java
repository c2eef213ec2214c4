package dev.arbor.server.cli;

/**
 * A problem with what the user gave a client command (unreadable file, malformed JSON, a bad tag
 * value). Its message is a complete, one-line explanation: {@link CliErrorHandler} prints it as
 * {@code error: <message>} without a stack trace.
 */
final class CliInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  CliInputException(String message) {
    super(message, null, false, false);
  }
}
