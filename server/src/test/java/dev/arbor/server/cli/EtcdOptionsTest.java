package dev.arbor.server.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.metadata.etcd.EtcdClientConfig;
import dev.arbor.metadata.etcd.EtcdProcess;
import dev.arbor.property.HybridClock;
import dev.arbor.transport.TestPki;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The --etcd-* flags of every command that takes --metadata: listed in --help, every mistake
 * one line naming the flag, the password from a file or ARBOR_ETCD_PASSWORD, and the flags
 * reaching a real etcd that requires TLS with client certificates.
 */
class EtcdOptionsTest {
  private static final UnaryOperator<String> NO_ENV = name -> null;

  @TempDir Path tmp;

  private static CliRun run(String... args) {
    return CliRun.arbor(args);
  }

  /** The liaison's --metadata/--etcd-* options parsed from {@code args}. */
  private static ClusterMetadata parse(String... args) {
    LiaisonCommand cmd = new LiaisonCommand();
    new CommandLine(cmd).parseArgs(args);
    return cmd.cluster;
  }

  private Path file(String name, String content) throws Exception {
    return Files.writeString(tmp.resolve(name), content);
  }

  @Test
  void everyCommandTakingMetadataListsTheEtcdFlags() {
    for (String[] cmd : List.of(new String[] {"data", "--help"}, new String[] {"liaison", "--help"},
        new String[] {"dev-cluster", "--help"}, new String[] {"quarantine", "restore", "--help"})) {
      assertThat(run(cmd).out()).as(String.join(" ", cmd)).contains("etcds://", "--etcd-ca-file", "--etcd-cert-file",
          "--etcd-key-file", "--etcd-user", "--etcd-password-file", EtcdOptions.PASSWORD_ENV);
    }
  }

  @Test
  void mistakesAreOneLineNamingTheFlag() throws Exception {
    Path pem = file("x.pem", "x");
    Map<List<String>, String> cases = Map.of(
        List.of("--metadata", "etcds://127.0.0.1:1", "--etcd-cert-file", pem.toString()),
        "error: --etcd-cert-file and --etcd-key-file go together",
        List.of("--metadata", "etcd://127.0.0.1:1", "--etcd-ca-file", pem.toString()),
        "error: --etcd-ca-file needs TLS: write the endpoints as etcds://HOST:PORT",
        List.of("--metadata", "etcds://127.0.0.1:1", "--etcd-ca-file", tmp.resolve("nope.crt").toString()),
        "error: --etcd-ca-file " + tmp.resolve("nope.crt") + ": no such file",
        List.of("--metadata", "etcd://127.0.0.1:1", "--etcd-password-file", pem.toString()),
        "error: --etcd-password-file needs --etcd-user",
        List.of("--metadata", "etcd://127.0.0.1:1", "--etcd-user", "arbor", "--etcd-password-file",
            file("empty", "").toString()),
        "error: --etcd-password-file " + tmp.resolve("empty") + " is empty",
        List.of("--metadata", "https://127.0.0.1:1"),
        "error: --metadata must be etcd://host:port[,host:port] or etcds://... for TLS (got 'https://127.0.0.1:1');"
            + " to run every role on one machine without etcd use 'arbor dev-cluster'");
    for (var c : cases.entrySet()) {
      List<String> args = new java.util.ArrayList<>(List.of("liaison"));
      args.addAll(c.getKey());
      CliRun r = run(args.toArray(String[]::new));
      assertThat(r.exit()).as(c.getKey().toString()).isNotZero();
      assertThat(r.err()).as(c.getKey().toString()).isEqualTo(c.getValue() + "\n");
    }
    CliRun dev = run("dev-cluster", "--base-dir", tmp.toString(), "--etcd-user", "arbor");
    assertThat(dev.exit()).isNotZero();
    assertThat(dev.err()).isEqualTo("error: the --etcd-* options need --metadata etcd[s]://HOST:PORT\n");
  }

  @Test
  void thePasswordComesFromTheFileOrTheEnvironmentNeverAFlag() throws Exception {
    assertThatThrownBy(() -> parse("--metadata", "etcd://h:1", "--etcd-user", "arbor").config(NO_ENV))
        .isInstanceOf(CliInputException.class)
        .hasMessage("--etcd-user needs a password: give --etcd-password-file FILE or set ARBOR_ETCD_PASSWORD");
    EtcdClientConfig fromEnv = parse("--metadata", "etcds://h1:1,h2:2", "--etcd-user", "arbor")
        .config(name -> name.equals("ARBOR_ETCD_PASSWORD") ? "from-env" : null);
    assertThat(fromEnv.endpoints()).containsExactly(URI.create("https://h1:1"), URI.create("https://h2:2"));
    assertThat(fromEnv.user()).isEqualTo("arbor");
    assertThat(fromEnv.password()).isEqualTo("from-env");
    assertThat(fromEnv.toString()).doesNotContain("from-env");
    Path pw = file("pw", "from-file\nignored\n");
    EtcdClientConfig fromFile = parse("--metadata", "etcd://h:1", "--etcd-user", "arbor", "--etcd-password-file",
        pw.toString()).config(name -> "from-env");
    assertThat(fromFile.password()).isEqualTo("from-file");
    assertThat(fromFile.tls()).isFalse();
    assertThat(run("liaison", "--etcd-password", "x").err()).contains("Unknown options: '--etcd-password'");
  }

  @Test
  void theFlagsReachAnEtcdThatRequiresClientCertificates() throws Exception {
    TestPki ca = TestPki.newCa("cli-etcd-ca");
    Path caFile = ca.writeCa(tmp.resolve("ca.crt"));
    TestPki.Leaf server = ca.issue("etcd", tmp, "server");
    TestPki.Leaf client = ca.issue("arbor", tmp, "client");
    try (EtcdProcess etcd = EtcdProcess.start(tmp, new EtcdProcess.Tls(server.certFile(), server.keyFile(), caFile));
        ClusterMetadata meta = parse("--metadata", "etcds://127.0.0.1:" + etcd.clientUri().getPort(),
            "--etcd-ca-file", caFile.toString(), "--etcd-cert-file", client.certFile().toString(),
            "--etcd-key-file", client.keyFile().toString(), "--metadata-timeout", "3s")) {
      meta.connect(HybridClock.system(), NO_ENV);
      var created = meta.store().createGroup(dev.arbor.api.banyandb.common.v1.Group.newBuilder()
          .setMetadata(dev.arbor.api.banyandb.common.v1.Metadata.newBuilder().setName("g"))
          .setCatalog(dev.arbor.api.banyandb.common.v1.Catalog.CATALOG_PROPERTY)
          .setResourceOpts(dev.arbor.api.banyandb.common.v1.ResourceOpts.newBuilder().setShardNum(1).setReplicas(1))
          .build());
      assertThat(meta.store().group("g")).contains(created);
    }
  }
}
