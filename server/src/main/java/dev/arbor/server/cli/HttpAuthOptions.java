package dev.arbor.server.cli;

import dev.arbor.transport.HttpAuth;
import dev.arbor.transport.SecurityConfig;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Users guarding a data node's HTTP port ({@code /metrics}, {@code /repair/traces}). Its gRPC port
 * takes no credentials yet: peers call it without any.
 */
final class HttpAuthOptions {
  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(names = "--auth-config-file", paramLabel = "FILE",
      description = "Users (same YAML as for the liaison; mode 0600) whose HTTP basic-auth credentials the HTTP"
          + " port asks for; the gRPC port is not authenticated on data nodes yet. Re-read when it changes.")
  Path authConfigFile;

  @Option(names = "--http-auth", paramLabel = "MODE", defaultValue = "protected",
      description = "With --auth-config-file, which HTTP routes need credentials: none, protected (all but"
          + " /health) or all (default: ${DEFAULT-VALUE}).")
  String httpAuth;

  @Option(names = "--security-reload-interval", paramLabel = "DURATION", defaultValue = "10s",
      converter = DurationConverter.class,
      description = "How often the users file is checked for changes (default: ${DEFAULT-VALUE}).")
  Duration reloadInterval;

  SecurityConfig config() {
    if (reloadInterval.isZero() || reloadInterval.isNegative()) {
      throw new ParameterException(mixee.commandLine(), "--security-reload-interval must be positive");
    }
    try {
      return new SecurityConfig(null, authConfigFile, HttpAuth.parse(httpAuth), reloadInterval);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(mixee.commandLine(), e.getMessage());
    }
  }
}
