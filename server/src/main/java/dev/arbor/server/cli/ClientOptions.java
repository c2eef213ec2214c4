package dev.arbor.server.cli;

import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.ClientSecurity;
import dev.arbor.transport.Credentials;
import java.nio.file.Path;
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
  static final String PASSWORD_ENV = "ARBOR_PASSWORD";

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

  @Option(names = "--tls-ca-file", paramLabel = "FILE",
      description = "Connect over TLS, trusting server certificates signed by this CA (PEM). Default: plaintext.")
  Path caFile;

  @Option(names = "--tls-cert-file", paramLabel = "FILE",
      description = "Client certificate (PEM) for a server in client-certificate mode; needs --tls-key-file and --tls-ca-file.")
  Path clientCertFile;

  @Option(names = "--tls-key-file", paramLabel = "FILE",
      description = "Private key of --tls-cert-file (PEM, PKCS#8).")
  Path clientKeyFile;

  @Option(names = "--user", paramLabel = "NAME",
      description = "User name sent with every call; the password is read from --password-file or the "
          + PASSWORD_ENV + " environment variable.")
  String user;

  @Option(names = "--password-file", paramLabel = "FILE",
      description = "File holding the password of --user (first line; keep it mode 0600).")
  Path passwordFile;

  /** Opens a channel to {@link #target}; close it when the command is done. */
  ApiChannel connect() {
    if (timeout.isZero() || timeout.isNegative()) {
      throw new ParameterException(mixee.commandLine(), "--timeout must be positive");
    }
    return ApiChannel.open(target, timeout, channels());
  }

  private ChannelFactory channels() {
    if ((clientCertFile == null) != (clientKeyFile == null)) {
      throw new ParameterException(mixee.commandLine(), "--tls-cert-file and --tls-key-file go together");
    }
    if (clientCertFile != null && caFile == null) {
      throw new ParameterException(mixee.commandLine(), "--tls-cert-file needs --tls-ca-file");
    }
    Credentials credentials = null;
    if (user != null) {
      credentials = new Credentials(user, password());
    } else if (passwordFile != null) {
      throw new ParameterException(mixee.commandLine(), "--password-file needs --user");
    }
    try {
      return ChannelFactory.of(new ClientSecurity(caFile, clientCertFile, clientKeyFile, credentials));
    } catch (IllegalArgumentException e) {
      throw new CliInputException(Messages.oneLine(e));
    }
  }

  private String password() {
    return PasswordSource.read(passwordFile, "--password-file", PASSWORD_ENV, System::getenv)
        .orElseThrow(() -> new ParameterException(mixee.commandLine(),
            "--user needs a password: give --password-file FILE or set " + PASSWORD_ENV));
  }

  /** JSON printer writing to this command's standard output. */
  JsonOutput output() {
    return new JsonOutput(mixee.commandLine().getOut(), compact);
  }
}
