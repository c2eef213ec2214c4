package dev.arbor.metadata.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A plaintext client talking to an etcd that serves TLS sees the connection closed or reset,
 * depending on timing (CI saw the reset once the real-etcd test had only expected the close); both
 * must point at {@code etcds://}. The real etcd case is in {@code EtcdTlsTest}.
 */
class ConnectFailureTextTest {
  private static final EtcdClientConfig PLAINTEXT =
      EtcdClientConfig.plaintext(List.of(URI.create("http://127.0.0.1:2379")), Duration.ofSeconds(3));

  @Test
  void aResetAndACloseBothSuggestTls() {
    for (String detail : List.of("io exception: Connection reset", "Network closed for unknown reason")) {
      String text = EtcdConnection.connectFailure(
          Status.UNAVAILABLE.withDescription(detail).asRuntimeException(), PLAINTEXT);
      assertThat(text).as(detail).endsWith("write the endpoints as etcds:// (with --etcd-ca-file)");
    }
  }

  @Test
  void aRefusedConnectionIsNotBlamedOnTls() {
    String text = EtcdConnection.connectFailure(
        Status.UNAVAILABLE.withDescription("io exception: Connection refused").asRuntimeException(), PLAINTEXT);
    assertThat(text).doesNotContain("etcds://");
  }
}
