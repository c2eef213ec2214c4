package dev.arbor.server.cli;

import dev.arbor.metadata.etcd.EtcdClientConfig;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Option;

/**
 * How a role reaches etcd securely: the CA that signed etcd's certificate, a client certificate
 * for etcd's {@code --client-cert-auth}, and a user whose password comes from a file or the
 * {@value #PASSWORD_ENV} environment variable (never a flag value: it would stay in the shell
 * history and show in the process list). TLS itself is chosen by the {@code etcds://} scheme.
 */
final class EtcdOptions {
  static final String PASSWORD_ENV = "ARBOR_ETCD_PASSWORD";

  @Option(names = "--etcd-ca-file", paramLabel = "FILE",
      description = "CA certificate(s) (PEM) that signed etcd's server certificates; needs etcds:// endpoints."
          + " Default with etcds://: the JDK's trusted CAs.")
  Path caFile;

  @Option(names = "--etcd-cert-file", paramLabel = "FILE",
      description = "Client certificate (PEM) presented to etcd (etcd --client-cert-auth); needs --etcd-key-file"
          + " and etcds:// endpoints. The CA, certificate and key files are re-read when they change"
          + " (checked every --security-reload-interval), without reconnecting.")
  Path certFile;

  @Option(names = "--etcd-key-file", paramLabel = "FILE",
      description = "Private key of --etcd-cert-file (PEM, PKCS#8).")
  Path keyFile;

  @Option(names = "--etcd-user", paramLabel = "NAME",
      description = "etcd user (etcd auth enabled); the password is read from --etcd-password-file or the "
          + PASSWORD_ENV + " environment variable.")
  String user;

  @Option(names = "--etcd-password-file", paramLabel = "FILE",
      description = "File holding the password of --etcd-user (first line; keep it mode 0600).")
  Path passwordFile;

  boolean anyGiven() {
    return caFile != null || certFile != null || keyFile != null || user != null || passwordFile != null;
  }

  /**
   * The client configuration for {@code endpoints}; every problem is one line naming the flag.
   * {@code env} reads environment variables (a parameter so tests need not set real ones).
   */
  EtcdClientConfig config(List<URI> endpoints, Duration timeout, boolean tls, UnaryOperator<String> env) {
    if ((certFile == null) != (keyFile == null)) {
      throw new CliInputException("--etcd-cert-file and --etcd-key-file go together");
    }
    if (!tls && (caFile != null || certFile != null)) {
      throw new CliInputException((caFile != null ? "--etcd-ca-file" : "--etcd-cert-file")
          + " needs TLS: write the endpoints as etcds://HOST:PORT");
    }
    requireReadable(caFile, "--etcd-ca-file");
    requireReadable(certFile, "--etcd-cert-file");
    requireReadable(keyFile, "--etcd-key-file");
    String password = null;
    if (user != null) {
      if (user.isBlank()) {
        throw new CliInputException("--etcd-user must not be empty");
      }
      password = password(env);
    } else if (passwordFile != null) {
      throw new CliInputException("--etcd-password-file needs --etcd-user");
    }
    try {
      return new EtcdClientConfig(endpoints, timeout, caFile, certFile, keyFile, user, password,
          EtcdClientConfig.DEFAULT_RELOAD_INTERVAL);
    } catch (IllegalArgumentException e) {
      throw new CliInputException(Messages.oneLine(e));
    }
  }

  private String password(UnaryOperator<String> env) {
    if (passwordFile != null) {
      requireReadable(passwordFile, "--etcd-password-file");
    }
    return PasswordSource.read(passwordFile, "--etcd-password-file", PASSWORD_ENV, env)
        .orElseThrow(() -> new CliInputException(
            "--etcd-user needs a password: give --etcd-password-file FILE or set " + PASSWORD_ENV));
  }

  private static void requireReadable(Path file, String flag) {
    if (file == null) {
      return;
    }
    if (!Files.isRegularFile(file)) {
      throw new CliInputException(flag + " " + file + ": no such file");
    }
    if (!Files.isReadable(file)) {
      throw new CliInputException(flag + " " + file + ": permission denied");
    }
  }
}
