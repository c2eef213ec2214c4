package dev.arbor.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.api.repair.v1.GossipServiceGrpc;
import dev.arbor.api.repair.v1.PropagationRequest;
import dev.arbor.api.repair.v1.RepairServiceGrpc;
import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SessionResponse;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.EmbeddedNodeRegistry;
import dev.arbor.metadata.RegisteredNode;
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
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data node's internal listener with mutual TLS: only certificates of the cluster CA naming a
 * node registered now get through; everything else is refused (and counted). Real gRPC over
 * loopback, certificates made in the test.
 */
class InternalMtlsTest {
  @TempDir Path dir;

  private TestPki cluster;
  private Path ca;
  private EmbeddedMetadataStore metadata;
  private EmbeddedNodeRegistry registry;
  private DataNodeServer node;
  private TestPki.Leaf nodeCert;
  private final List<ManagedChannel> channels = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    cluster = TestPki.newCa("arbor-cluster");
    ca = cluster.writeCa(dir.resolve("ca.crt"));
    nodeCert = cluster.issue("n1", dir, "n1");
    metadata = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
    registry = new EmbeddedNodeRegistry();
    node = DataNodeServer.start("n1", config(), metadata, registry, "127.0.0.1", Duration.ofMinutes(1),
        SecurityConfig.NONE, new InternalListener("127.0.0.1", 0,
            new InternalTls(nodeCert.certFile(), nodeCert.keyFile(), ca, Duration.ofMillis(100)), false));
  }

  private ServerConfig config() {
    RepairConfig repair = new RepairConfig("off", Duration.ofMinutes(1), Duration.ofMinutes(1), Duration.ofHours(1),
        Duration.ofDays(1));
    return ServerConfig.defaults(dir.resolve("n1")).withHost("127.0.0.1").withPorts(0, 0).withRepair(repair);
  }

  @AfterEach
  void stop() {
    channels.forEach(ManagedChannel::shutdownNow);
    node.close();
    metadata.close();
  }

  private ManagedChannel internalAs(TestPki.Leaf leaf, Path trusted) {
    ManagedChannel ch = ChannelFactory.of(new ClientSecurity(trusted, leaf.certFile(), leaf.keyFile(), null))
        .open("127.0.0.1:" + node.internalPort(), 1 << 20);
    channels.add(ch);
    return ch;
  }

  @Test
  void aCertificateOfAnotherCaIsRefusedDuringTheHandshake() throws Exception {
    TestPki rogue = TestPki.newCa("rogue");
    // Named like a registered node, and trusting the right CA itself: only its issuer is wrong.
    TestPki.Leaf impostor = rogue.issue("n1", Files.createDirectories(dir.resolve("rogue")), "n1");
    ManagedChannel ch = internalAs(impostor, ca);
    assertThatThrownBy(() -> DataNodeServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
        .read(ReadRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
    // A plaintext caller gets nowhere either.
    ManagedChannel plain = ChannelFactory.plaintext().open("127.0.0.1:" + node.internalPort(), 1 << 20);
    channels.add(plain);
    assertThatThrownBy(() -> DataNodeServiceGrpc.newBlockingStub(plain).withDeadlineAfter(10, TimeUnit.SECONDS)
        .read(ReadRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
  }

  @Test
  void aValidCertificateOfAnUnregisteredNodeIsRefusedOnWriteRepairAndGossip() throws Exception {
    TestPki.Leaf stranger = cluster.issue("n9", dir, "n9");
    ManagedChannel ch = internalAs(stranger, ca);
    double before = refused("unknown_member");

    assertPermissionDenied(() -> DataNodeServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
        .write(WriteRequest.getDefaultInstance()));
    assertPermissionDenied(() -> GossipServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
        .propagate(PropagationRequest.getDefaultInstance()));
    CompletableFuture<Void> session = new CompletableFuture<>();
    StreamObserver<SessionRequest> requests = RepairServiceGrpc.newStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
        .repair(new StreamObserver<SessionResponse>() {
          @Override
          public void onNext(SessionResponse value) {
            session.completeExceptionally(new AssertionError("the session answered: " + value));
          }

          @Override
          public void onError(Throwable t) {
            session.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            session.complete(null);
          }
        });
    requests.onNext(SessionRequest.getDefaultInstance());
    assertPermissionDenied(() -> {
      try {
        session.get(10, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        throw (RuntimeException) e.getCause();
      } catch (Exception e) {
        throw new AssertionError(e);
      }
    });

    assertThat(refused("unknown_member") - before).isEqualTo(3.0);
  }

  @Test
  void aMemberIsServedUntilItLeavesTheRegistry() throws Exception {
    TestPki.Leaf liaison = cluster.issue("liaison-1", dir, "liaison-1");
    ManagedChannel ch = internalAs(liaison, ca);
    registry.register(RegisteredNode.of("liaison-1", "127.0.0.1:1", Set.of("liaison")), Duration.ofMinutes(1));
    assertThat(DataNodeServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
        .read(ReadRequest.getDefaultInstance()).getPropertiesCount()).isZero();

    registry.deregister("liaison-1");
    // Same certificate, same open connection: refused once its node is no longer registered.
    assertPermissionDenied(() -> DataNodeServiceGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS)
        .read(ReadRequest.getDefaultInstance()));
  }

  @Test
  void aRenewedNodeCertificateIsServedWithoutRestart() throws Exception {
    BigInteger first = presentedSerial();
    assertThat(first).isEqualTo(nodeCert.cert().getSerialNumber());
    Path staging = Files.createDirectories(dir.resolve("renewed"));
    TestPki.Leaf renewed = cluster.issue("n1", staging, "n1");
    // Key first, then certificate, each replaced atomically (as an operator's mv does).
    Files.move(renewed.keyFile(), nodeCert.keyFile(), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    Files.move(renewed.certFile(), nodeCert.certFile(), StandardCopyOption.ATOMIC_MOVE,
        StandardCopyOption.REPLACE_EXISTING);
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
        .untilAsserted(() -> assertThat(presentedSerial()).isEqualTo(renewed.cert().getSerialNumber()));
  }

  @Test
  void aNodeCertificateNamingAnotherNodeStopsTheStart() throws Exception {
    TestPki.Leaf other = cluster.issue("n2", dir, "n2");
    assertThatThrownBy(() -> DataNodeServer.start("n3", config().withDataDir(dir.resolve("n3")), metadata, registry,
        "127.0.0.1", Duration.ofMinutes(1), SecurityConfig.NONE, new InternalListener("127.0.0.1", 0,
            new InternalTls(other.certFile(), other.keyFile(), ca, Duration.ofSeconds(10)), false)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--internal-tls-cert-file")
        .hasMessageContaining("is for node 'n2', not this node 'n3'");
    assertThat(registry.node("n3")).isEmpty();
  }

  /**
   * The serial of the certificate the internal listener presents to a new connection, recorded
   * while the handshake checks it (the handshake then fails: this probe has no client certificate).
   */
  private BigInteger presentedSerial() throws Exception {
    X509Certificate[] seen = new X509Certificate[1];
    javax.net.ssl.X509TrustManager recording = new javax.net.ssl.X509TrustManager() {
      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) {}

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) {
        seen[0] = chain[0];
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    };
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, new javax.net.ssl.TrustManager[] {recording}, null);
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", node.internalPort())) {
      s.setSoTimeout(10_000);
      s.startHandshake();
      s.getOutputStream().write(0);
    } catch (java.io.IOException expected) {
      // refused for want of a client certificate, after the server's was seen
    }
    assertThat(seen[0]).as("the server presented a certificate").isNotNull();
    return seen[0].getSerialNumber();
  }

  private double refused(String reason) throws Exception {
    String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + node.httpPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
    Matcher m = Pattern.compile("(?m)^arbor_internal_calls_refused_total\\{reason=\"" + reason + "\",?} (\\S+)$")
        .matcher(body);
    assertThat(m.find()).as("metric of reason %s in\n%s", reason, body).isTrue();
    return Double.parseDouble(m.group(1));
  }

  private static void assertPermissionDenied(Runnable call) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(e.getStatus().getDescription()).contains("node '", "not a registered member");
    });
  }
}
