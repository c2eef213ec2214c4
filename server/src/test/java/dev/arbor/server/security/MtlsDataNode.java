package dev.arbor.server.security;

import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.EmbeddedNodeRegistry;
import dev.arbor.property.HybridClock;
import dev.arbor.server.DataNodeServer;
import dev.arbor.server.InternalListener;
import dev.arbor.server.RepairConfig;
import dev.arbor.server.ServerConfig;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.ClientSecurity;
import dev.arbor.transport.InternalTls;
import dev.arbor.transport.SecurityConfig;
import dev.arbor.transport.TestPki;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A real data node {@code n1} whose internal listener requires member certificates from a test CA,
 * with an embedded registry the test controls (who is a member, in which role), and channels that
 * present a certificate for any node id. Background repair is off.
 */
final class MtlsDataNode implements AutoCloseable {
  private final Path dir;
  private final TestPki ca;
  private final Path caFile;
  private final EmbeddedMetadataStore metadata;
  private final EmbeddedNodeRegistry registry;
  private final DataNodeServer node;
  private final List<ManagedChannel> channels = new ArrayList<>();

  private MtlsDataNode(Path dir, TestPki ca, Path caFile, EmbeddedMetadataStore metadata,
      EmbeddedNodeRegistry registry, DataNodeServer node) {
    this.dir = dir;
    this.ca = ca;
    this.caFile = caFile;
    this.metadata = metadata;
    this.registry = registry;
    this.node = node;
  }

  static MtlsDataNode start(Path dir) throws Exception {
    TestPki ca = TestPki.newCa("arbor-cluster");
    Path caFile = ca.writeCa(dir.resolve("ca.crt"));
    TestPki.Leaf nodeCert = ca.issue("n1", dir, "n1");
    EmbeddedMetadataStore metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
    EmbeddedNodeRegistry registry = new EmbeddedNodeRegistry();
    RepairConfig repair = new RepairConfig("off", Duration.ofMinutes(1), Duration.ofMinutes(1), Duration.ofHours(1),
        Duration.ofDays(1));
    DataNodeServer node = DataNodeServer.start("n1",
        ServerConfig.defaults(dir.resolve("n1")).withHost("127.0.0.1").withPorts(0, 0).withRepair(repair),
        metadata, registry, "127.0.0.1", Duration.ofMinutes(1), SecurityConfig.NONE,
        new InternalListener("127.0.0.1", 0,
            new InternalTls(nodeCert.certFile(), nodeCert.keyFile(), caFile, Duration.ofSeconds(10)), false));
    return new MtlsDataNode(dir, ca, caFile, metadata, registry, node);
  }

  DataNodeServer node() {
    return node;
  }

  EmbeddedNodeRegistry registry() {
    return registry;
  }

  /** A channel to the internal listener presenting a member certificate issued for {@code nodeId}. */
  ManagedChannel channelAs(String nodeId) throws Exception {
    TestPki.Leaf leaf = ca.issue(nodeId, dir, nodeId);
    ManagedChannel ch = ChannelFactory.of(new ClientSecurity(caFile, leaf.certFile(), leaf.keyFile(), null))
        .open("127.0.0.1:" + node.internalPort(), 1 << 20);
    channels.add(ch);
    return ch;
  }

  /**
   * The value of one sample on the node's {@code /metrics} ({@code labels} is a regex of the label
   * list without braces, empty for none); fails naming the metric when it is absent.
   */
  double metric(String name, String labels) throws Exception {
    String body = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
            java.net.URI.create("http://127.0.0.1:" + node.httpPort() + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile(
        "(?m)^" + name + (labels.isEmpty() ? "" : "\\{" + labels + "}") + " (\\S+)$").matcher(body);
    org.assertj.core.api.Assertions.assertThat(m.find()).as("metric %s{%s} in\n%s", name, labels, body).isTrue();
    return Double.parseDouble(m.group(1));
  }

  @Override
  public void close() {
    channels.forEach(ManagedChannel::shutdownNow);
    node.close();
    metadata.close();
  }
}
