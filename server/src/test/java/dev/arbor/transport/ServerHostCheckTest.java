package dev.arbor.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client checks that the server's certificate names the host it dialled, not only that a
 * trusted CA signed it: a certificate issued for another host is refused, on the public port and
 * on mutual TLS between nodes alike.
 */
class ServerHostCheckTest {
  private static final Duration RELOAD = Duration.ofSeconds(30);

  @TempDir Path dir;

  @Test
  void publicClientRefusesACertificateForAnotherHost() throws Exception {
    TestPki ca = TestPki.newCa("host-ca");
    Path caFile = ca.writeCa(dir.resolve("ca.crt"));
    TestPki.Leaf elsewhere = ca.issueForHost("arbor", "db.elsewhere.example", dir, "elsewhere");
    TestPki.Leaf here = ca.issue("arbor", dir, "here");
    ChannelFactory client = ChannelFactory.of(new ClientSecurity(caFile, null, null, null));

    try (TlsMaterial tls = TlsMaterial.load(new ServerTls(elsewhere.certFile(), elsewhere.keyFile(), null, RELOAD));
        TlsProbeServer s = new TlsProbeServer(tls)) {
      for (String host : new String[] {"localhost", "127.0.0.1"}) {
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> s.call(client, host));
        assertThat(e).as(host).isNotNull();
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      }
      assertThat(s.lastServerSession()).as("no call reached the server").isNull();
    }
    // The same CA and client accept a certificate naming the host.
    try (TlsMaterial tls = TlsMaterial.load(new ServerTls(here.certFile(), here.keyFile(), null, RELOAD));
        TlsProbeServer s = new TlsProbeServer(tls)) {
      assertThat(s.call(client, "localhost").getPeerCertificates()[0]).isEqualTo(here.cert());
    }
  }

  @Test
  void nodeRefusesAPeerCertificateForAnotherHost() throws Exception {
    TestPki ca = TestPki.newCa("cluster-ca");
    Path caFile = ca.writeCa(dir.resolve("ca.crt"));
    TestPki.Leaf n1 = ca.issueForHost("n1", "n1.elsewhere.example", dir, "n1");
    TestPki.Leaf n2 = ca.issue("n2", dir, "n2");
    try (TlsMaterial server = new InternalTls(n1.certFile(), n1.keyFile(), caFile, RELOAD).load("n1");
        TlsMaterial client = new InternalTls(n2.certFile(), n2.keyFile(), caFile, RELOAD).load("n2");
        TlsProbeServer s = new TlsProbeServer(server)) {
      StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
          () -> s.call(ChannelFactory.mutualTls(client), "127.0.0.1"));
      assertThat(e).isNotNull();
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      assertThat(s.lastServerSession()).isNull();
    }
  }
}
