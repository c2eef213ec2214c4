package dev.arbor.it;

import static dev.arbor.it.Props.byIds;
import static dev.arbor.it.Props.property;
import static dev.arbor.it.Props.propertyGroup;
import static dev.arbor.it.Props.schema;
import static dev.arbor.it.Props.str;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.harness.EtcdServer;
import dev.arbor.transport.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.apache.skywalking.banyandb.database.v1.BanyandbDatabase.TagType;
import org.apache.skywalking.banyandb.property.v1.BanyandbProperty;
import org.apache.skywalking.banyandb.v1.client.BanyanDBClient;
import org.apache.skywalking.banyandb.v1.client.Options;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * A cluster with every connection secured, as a real deployment would run it: etcd serves TLS and
 * wants client certificates; two {@code arbor data} processes and one {@code arbor liaison} call
 * each other over mutual TLS with certificates of one cluster CA naming their node ids; the
 * liaison's public port and the data nodes' admin ports are TLS with users and roles. A replica is
 * killed with {@code kill -9} while the official client writes and deletes through the liaison;
 * after it returns, {@code arbor repair run} with admin credentials (refused without them) repairs
 * it, a second round finds nothing to do, and the repaired replica alone serves every write and
 * none of the deletes it missed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class SecureClusterIT {
  private static final String G = "secure_cluster";
  private static final Duration CLI_BOUND = Duration.ofSeconds(120);
  private static final Pattern SUMMARY = Pattern.compile(
      "repair of (\\S+): (\\d+) round\\(s\\) (completed|with \\d+ not completed), (\\d+) hop\\(s\\),"
          + " (\\d+) compared, (\\d+) repaired \\((\\d+) pushed, (\\d+) pulled\\)");

  private final List<AutoCloseable> running = new ArrayList<>();

  @AfterAll
  void stop() {
    for (int i = running.size() - 1; i >= 0; i--) {
      try {
        running.get(i).close();
      } catch (Exception e) {
        System.out.println("[secure-it] closing: " + e);
      }
    }
  }

  @Test
  void aKilledReplicaIsRepairedOverMutualTlsByAnAdminWithEtcdOverTls() throws Exception {
    Path work = ArborProcess.newDataDir("secure-cluster");
    TestPki ca = TestPki.newCa("cluster-ca");
    Path caFile = ca.writeCa(work.resolve("ca.crt"));
    TestPki.Leaf etcdServer = ca.issue("etcd", work, "etcd-server");
    TestPki.Leaf etcdClient = ca.issue("arbor-etcd-client", work, "etcd-client");
    TestPki.Leaf publicCert = ca.issue("arbor", work, "public");
    Path users = secret(work.resolve("users.yaml"), """
        users:
          - {username: admin, password: adm1n, role: admin}
          - {username: writer, password: wr1ter, role: write}
        """);
    Path adminPassword = secret(work.resolve("admin.password"), "adm1n\n");

    EtcdServer etcd = ArborProcess.startEtcd(Files.createDirectories(work.resolve("etcd")),
        new EtcdServer.Tls(etcdServer.certFile(), etcdServer.keyFile(), caFile));
    running.add(etcd);
    String metadata = "etcds://127.0.0.1:" + etcd.clientUri().getPort();
    List<String> common = List.of(
        "--etcd-ca-file", caFile.toString(),
        "--etcd-cert-file", etcdClient.certFile().toString(), "--etcd-key-file", etcdClient.keyFile().toString(),
        "--internal-tls-ca-file", caFile.toString(),
        "--tls-cert-file", publicCert.certFile().toString(), "--tls-key-file", publicCert.keyFile().toString(),
        "--auth-config-file", users.toString());

    ArborProcess[] data = new ArborProcess[2];
    for (int i = 0; i < data.length; i++) {
      String id = "sec-dn-" + (i + 1);
      TestPki.Leaf cert = ca.issue(id, work, id);
      List<String> args = new ArrayList<>(common);
      args.addAll(List.of("--internal-tls-cert-file", cert.certFile().toString(),
          "--internal-tls-key-file", cert.keyFile().toString(), "--repair-schedule", "off"));
      int[] ports = ArborProcess.freePorts(2);
      data[i] = ArborProcess.launchData("secure-" + id, id, work.resolve(id), ports[0], ports[1], metadata,
          args.toArray(String[]::new));
      running.add(data[i]);
      // The HTTP port is HTTPS: readiness is the start line, printed once the node is registered.
      data[i].awaitOutput("Arbor data node " + id + " serving", ArborProcess.STARTUP_TIMEOUT);
    }
    TestPki.Leaf liaisonCert = ca.issue("sec-liaison", work, "sec-liaison");
    List<String> liaisonArgs = new ArrayList<>(common);
    liaisonArgs.addAll(List.of("--node-id", "sec-liaison",
        "--internal-tls-cert-file", liaisonCert.certFile().toString(),
        "--internal-tls-key-file", liaisonCert.keyFile().toString()));
    int[] lp = ArborProcess.freePorts(2);
    ArborProcess liaison = ArborProcess.launchLiaison("secure-liaison", lp[0], lp[1], metadata,
        liaisonArgs.toArray(String[]::new));
    running.add(liaison);
    liaison.awaitOutput("Arbor liaison serving", ArborProcess.STARTUP_TIMEOUT);

    List<String> first = ids("a", 100);
    List<String> missed = ids("b", 300);
    List<String> deleted = first.subList(0, 20);
    try (BanyanDBClient admin = client(liaison, caFile, "admin", "adm1n");
        BanyanDBClient writer = client(liaison, caFile, "writer", "wr1ter")) {
      admin.define(propertyGroup(G, 1, 1)); // one shard, two copies: both data nodes hold it
      admin.define(schema(G, "cfg", "v", TagType.TAG_TYPE_STRING));
      for (String id : first) {
        writer.apply(property(G, "cfg", id, str("v", "1")));
      }
      data[1].kill9();
      // Consistency one: acknowledged by the surviving replica alone.
      for (String id : missed) {
        writer.apply(property(G, "cfg", id, str("v", "2")));
      }
      for (String id : deleted) {
        assertThat(writer.deleteProperty(G, "cfg", id).getDeleted()).isTrue();
      }
    }
    data[1] = data[1].relaunch();
    running.add(data[1]);
    data[1].awaitOutput("Arbor data node sec-dn-2 serving", ArborProcess.STARTUP_TIMEOUT);

    String target = data[0].grpcTarget();
    Cli anonymous = cli("secure-repair-anonymous", "repair", "run", "--target", target, "--group", G,
        "--tls-ca-file", caFile.toString());
    assertThat(anonymous.exit()).as(anonymous.out()).isNotZero();
    assertThat(anonymous.out()).contains("UNAUTHENTICATED").doesNotContain("\tat ");

    Cli run = cli("secure-repair", "repair", "run", "--target", target, "--group", G,
        "--tls-ca-file", caFile.toString(), "--user", "admin", "--password-file", adminPassword.toString());
    assertThat(run.exit()).as(run.out()).isZero();
    Matcher m = summary(run);
    assertThat(m.group(3)).isEqualTo("completed");
    // Every write and delete the killed replica missed crossed over mutual TLS.
    assertThat(Long.parseLong(m.group(6))).as(run.out()).isGreaterThanOrEqualTo(missed.size() + deleted.size());

    Cli again = cli("secure-repair-again", "repair", "run", "--target", target, "--group", G,
        "--tls-ca-file", caFile.toString(), "--user", "admin", "--password-file", adminPassword.toString());
    assertThat(again.exit()).as(again.out()).isZero();
    assertThat(summary(again).group(6)).as(again.out()).isEqualTo("0");

    // The repaired replica alone: every acknowledged write, none of the acknowledged deletes.
    data[0].kill9();
    try (BanyanDBClient reader = client(liaison, caFile, "writer", "wr1ter")) {
      List<String> all = new ArrayList<>(first);
      all.addAll(missed);
      List<String> live = new ArrayList<>();
      for (int from = 0; from < all.size(); from += 100) {
        for (BanyandbProperty.Property p : byIds(reader, G, "cfg", all.subList(from, Math.min(all.size(), from + 100)))) {
          live.add(p.getId());
        }
      }
      List<String> expected = new ArrayList<>(first.subList(deleted.size(), first.size()));
      expected.addAll(missed);
      assertThat(live).containsExactlyInAnyOrderElementsOf(expected);
    }
  }

  private static List<String> ids(String prefix, int n) {
    return IntStream.range(0, n).mapToObj(i -> prefix + "-" + i).toList();
  }

  private static Path secret(Path file, String content) throws Exception {
    Files.writeString(file, content, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return file;
  }

  private static BanyanDBClient client(ArborProcess liaison, Path caFile, String user, String password)
      throws Exception {
    Options o = new Options();
    o.setForceTLS(true);
    o.setSslTrustCAPath(caFile.toString());
    o.setUsername(user);
    o.setPassword(password);
    BanyanDBClient c = new BanyanDBClient(new String[] {liaison.grpcTarget()}, o);
    c.connect();
    return c;
  }

  record Cli(int exit, String out) {}

  private static Cli cli(String name, String... args) {
    ArborProcess p = ArborProcess.launchCommand(name, args);
    try {
      assertThat(p.waitFor(CLI_BOUND)).as("arbor %s exits within %s\n%s", String.join(" ", args), CLI_BOUND,
          p.logTail(40)).isTrue();
      Cli c = new Cli(p.process().exitValue(), p.output());
      System.out.printf("[secure-it] arbor %s -> exit %d%n%s%n", String.join(" ", args), c.exit(), c.out());
      return c;
    } finally {
      p.close();
    }
  }

  private static Matcher summary(Cli run) {
    Matcher m = SUMMARY.matcher(run.out());
    assertThat(m.find()).as("summary line in\n%s", run.out()).isTrue();
    assertThat(m.group(1)).isEqualTo(G);
    return m;
  }
}
