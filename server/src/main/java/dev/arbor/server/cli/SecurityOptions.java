package dev.arbor.server.cli;

import dev.arbor.transport.HttpAuth;
import dev.arbor.transport.SecurityConfig;
import dev.arbor.transport.ServerTls;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** TLS and authentication of the public API ports (gRPC and HTTP) of a standalone or a liaison. */
final class SecurityOptions {
  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(names = "--tls-cert-file", paramLabel = "FILE",
      description = "Serve gRPC and HTTP over TLS with this certificate chain (PEM); needs --tls-key-file."
          + " Re-read when it changes.")
  Path certFile;

  @Option(names = "--tls-key-file", paramLabel = "FILE",
      description = "Private key of --tls-cert-file (PEM, PKCS#8: 'BEGIN PRIVATE KEY'). Re-read when it changes.")
  Path keyFile;

  @Option(names = "--tls-client-ca-file", paramLabel = "FILE",
      description = "Client-certificate mode: accept only clients presenting a certificate signed by this CA (PEM).")
  Path clientCaFile;

  @Option(names = "--auth-config-file", paramLabel = "FILE",
      description = "Users allowed to call (YAML 'users:' list of username, password or password_hash (bcrypt),"
          + " role read|write|admin); must be mode 0600. Re-read when it changes. Without it anyone may call.")
  Path authConfigFile;

  @Option(names = "--http-auth", paramLabel = "MODE", defaultValue = "protected",
      description = "With --auth-config-file, which HTTP routes need basic-auth credentials: none, protected"
          + " (all but /health) or all (default: ${DEFAULT-VALUE}).")
  String httpAuth;

  @Option(names = "--security-reload-interval", paramLabel = "DURATION", defaultValue = "10s",
      converter = DurationConverter.class,
      description = "How often the TLS, users and etcd TLS (--etcd-ca-file, --etcd-cert-file, --etcd-key-file)"
          + " files are checked for changes (default: ${DEFAULT-VALUE}).")
  Duration reloadInterval;

  SecurityConfig config() {
    if ((certFile == null) != (keyFile == null)) {
      throw new ParameterException(mixee.commandLine(), "--tls-cert-file and --tls-key-file go together");
    }
    if (clientCaFile != null && certFile == null) {
      throw new ParameterException(mixee.commandLine(), "--tls-client-ca-file needs --tls-cert-file and --tls-key-file");
    }
    if (reloadInterval.isZero() || reloadInterval.isNegative()) {
      throw new ParameterException(mixee.commandLine(), "--security-reload-interval must be positive");
    }
    HttpAuth mode;
    try {
      mode = HttpAuth.parse(httpAuth);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(mixee.commandLine(), e.getMessage());
    }
    ServerTls tls = certFile == null ? null : new ServerTls(certFile, keyFile, clientCaFile, reloadInterval);
    return new SecurityConfig(tls, authConfigFile, mode, reloadInterval);
  }

  /** "TLS" or "plaintext", and whether calls are authenticated, for the start-up line. */
  String describe() {
    return (certFile == null ? "plaintext" : clientCaFile == null ? "TLS" : "TLS with client certificates")
        + (authConfigFile == null ? ", no authentication" : ", users from " + authConfigFile);
  }
}
