package dev.arbor.server.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * Where a user's password comes from on the command line: the first line of a file, else an
 * environment variable — never a flag value, which would stay in the shell history and show in the
 * process list.
 */
final class PasswordSource {
  private PasswordSource() {}

  /**
   * The password from {@code file} (named {@code fileFlag} in errors) when given, else from the
   * environment variable {@code envName}; empty when neither holds one.
   *
   * @throws CliInputException the file is unreadable or empty
   */
  static Optional<String> read(Path file, String fileFlag, String envName, UnaryOperator<String> env) {
    if (file != null) {
      try {
        String first = Files.readAllLines(file, StandardCharsets.UTF_8).stream().findFirst().orElse("");
        if (first.isEmpty()) {
          throw new CliInputException(fileFlag + " " + file + " is empty");
        }
        return Optional.of(first);
      } catch (IOException e) {
        throw new CliInputException("cannot read " + fileFlag + " " + file + ": " + Messages.oneLine(e));
      }
    }
    String value = env.apply(envName);
    return value == null || value.isEmpty() ? Optional.empty() : Optional.of(value);
  }
}
