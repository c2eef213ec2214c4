package dev.arbor.server.cli;

import java.time.Duration;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Options every client command shares: where the server is, how long one call may take, and
 * how to print the answer. Used as a picocli {@link Mixin}.
 */
final class ClientOptions {
  static final String DEFAULT_TARGET = "localhost:17912";

  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(
      names = "--target",
      paramLabel = "HOST:PORT",
      defaultValue = DEFAULT_TARGET,
      description = "Arbor gRPC endpoint (liaison or standalone). Default: ${DEFAULT-VALUE}.")
  String target;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description = "Deadline of each gRPC call, e.g. 500ms, 10s, 2m. Default: ${DEFAULT-VALUE}.")
  Duration timeout;

  @Option(names = "--compact", description = "Print JSON on one line instead of indented.")
  boolean compact;

  /** Opens a channel to {@link #target}; close it when the command is done. */
  ApiChannel connect() {
    if (timeout.isZero() || timeout.isNegative()) {
      throw new ParameterException(mixee.commandLine(), "--timeout must be positive");
    }
    return ApiChannel.open(target, timeout);
  }

  /** JSON printer writing to this command's standard output. */
  JsonOutput output() {
    return new JsonOutput(mixee.commandLine().getOut(), compact);
  }
}
