package dev.arbor.server.cli;

import dev.arbor.transport.InternalTls;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** Mutual TLS between the nodes of a cluster (data nodes and liaisons). */
final class InternalTlsOptions {
  @Spec(Spec.Target.MIXEE)
  CommandSpec mixee;

  @Option(names = "--internal-tls-cert-file", paramLabel = "FILE",
      description = "This node's certificate (PEM) for calls between nodes; its subject CN must be the node id,"
          + " its subject alternative names the advertised host. With --internal-tls-key-file and"
          + " --internal-tls-ca-file. Re-read when it changes.")
  Path certFile;

  @Option(names = "--internal-tls-key-file", paramLabel = "FILE",
      description = "Private key of --internal-tls-cert-file (PEM, PKCS#8). Re-read when it changes.")
  Path keyFile;

  @Option(names = "--internal-tls-ca-file", paramLabel = "FILE",
      description = "The cluster CA (PEM): nodes accept only peers whose certificate it signed, and check the"
          + " certificate of every node they call against it. Re-read when it changes.")
  Path caFile;

  /** The configured mutual TLS, or null when none of the three options is given. */
  InternalTls config(Duration reloadInterval) {
    int given = (certFile == null ? 0 : 1) + (keyFile == null ? 0 : 1) + (caFile == null ? 0 : 1);
    if (given == 0) {
      return null;
    }
    if (given != 3) {
      throw new ParameterException(mixee.commandLine(),
          "--internal-tls-cert-file, --internal-tls-key-file and --internal-tls-ca-file go together");
    }
    return new InternalTls(certFile, keyFile, caFile, reloadInterval);
  }
}
