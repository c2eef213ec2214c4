package dev.arbor.server.cli;

import io.grpc.StatusRuntimeException;
import picocli.CommandLine;

/** Turns any failure of a command into one readable line on stderr and a non-zero exit code. */
final class CliErrorHandler implements CommandLine.IExecutionExceptionHandler {
  static final int EXIT_FAILURE = 1;

  @Override
  public int handleExecutionException(
      Exception ex, CommandLine commandLine, CommandLine.ParseResult parseResult) {
    commandLine.getErr().println("error: " + describe(ex));
    commandLine.getErr().flush();
    return EXIT_FAILURE;
  }

  static String describe(Throwable ex) {
    if (ex instanceof StatusRuntimeException sre) {
      String desc = sre.getStatus().getDescription();
      return sre.getStatus().getCode() + (desc == null ? "" : ": " + desc);
    }
    if (ex instanceof CommandLine.ParameterException) {
      return ex.getMessage();
    }
    String msg = ex.getMessage();
    return msg == null || msg.isBlank() ? ex.getClass().getSimpleName() : msg;
  }
}
