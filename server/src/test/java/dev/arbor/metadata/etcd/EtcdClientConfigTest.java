package dev.arbor.metadata.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What an etcd client configuration refuses before anything connects, and what it never prints. */
class EtcdClientConfigTest {
  private static final Duration T = Duration.ofSeconds(1);
  private static final List<URI> TLS = List.of(URI.create("https://h:1"));
  private static final List<URI> PLAIN = List.of(URI.create("http://h:1"));

  @Test
  void inconsistentSettingsAreRefused() {
    assertThatThrownBy(() -> EtcdClientConfig.plaintext(List.of(URI.create("https://a:1"), URI.create("http://b:2")), T))
        .hasMessageStartingWith("etcd endpoints mix TLS and plaintext");
    assertThatThrownBy(() -> EtcdClientConfig.plaintext(PLAIN, T).withTls(Path.of("ca.crt"), null, null))
        .hasMessage("an etcd CA or client certificate needs TLS (https://) endpoints");
    assertThatThrownBy(() -> EtcdClientConfig.plaintext(TLS, T).withTls(null, Path.of("c.crt"), null))
        .hasMessage("an etcd client certificate needs its key, and a key its certificate");
    assertThatThrownBy(() -> EtcdClientConfig.plaintext(TLS, T).withCredentials("arbor", null))
        .hasMessage("an etcd user needs a password, and a password a user");
    assertThatThrownBy(() -> EtcdClientConfig.plaintext(List.of(URI.create("ftp://h:1")), T))
        .hasMessage("etcd endpoint ftp://h:1 is neither http:// nor https://");
  }

  @Test
  void thePasswordIsNeverPrinted() {
    EtcdClientConfig c = EtcdClientConfig.plaintext(TLS, T).withCredentials("arbor", "hunter2");
    assertThat(c.tls()).isTrue();
    assertThat(c.toString()).contains("user=arbor", "password=***").doesNotContain("hunter2");
  }
}
