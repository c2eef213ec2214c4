package dev.arbor.metadata.etcd;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How to reach etcd: the endpoints ({@code http://} for plaintext, {@code https://} for TLS, not
 * mixed), the deadline of every call, and optionally the CA that signed etcd's certificate, a
 * client certificate and key (for etcd's {@code --client-cert-auth}), and a user name and
 * password (for etcd's {@code auth enable}). The CA and client certificate files are checked for
 * changes every {@code reloadInterval}.
 *
 * <p>With TLS and no {@code caFile} the JDK's default trust store verifies etcd. The password is
 * never printed: {@link #toString()} leaves it out.
 */
public record EtcdClientConfig(
    List<URI> endpoints,
    Duration timeout,
    Path caFile,
    Path certFile,
    Path keyFile,
    String user,
    String password,
    Duration reloadInterval) {
  /** How often the TLS files are checked for changes unless told otherwise. */
  public static final Duration DEFAULT_RELOAD_INTERVAL = Duration.ofSeconds(10);

  public EtcdClientConfig {
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(reloadInterval, "reloadInterval");
    if (reloadInterval.isNegative() || reloadInterval.isZero()) {
      throw new IllegalArgumentException("the etcd TLS reload interval must be > 0, got " + reloadInterval);
    }
    if (endpoints == null || endpoints.isEmpty()) {
      throw new IllegalArgumentException("at least one etcd endpoint is required");
    }
    endpoints = List.copyOf(endpoints);
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("etcd timeout must be > 0, got " + timeout);
    }
    long secure = endpoints.stream().filter(u -> "https".equals(u.getScheme())).count();
    for (URI u : endpoints) {
      if (!"https".equals(u.getScheme()) && !"http".equals(u.getScheme())) {
        throw new IllegalArgumentException("etcd endpoint " + u + " is neither http:// nor https://");
      }
    }
    if (secure != 0 && secure != endpoints.size()) {
      throw new IllegalArgumentException("etcd endpoints mix TLS and plaintext: " + endpoints);
    }
    if ((certFile == null) != (keyFile == null)) {
      throw new IllegalArgumentException("an etcd client certificate needs its key, and a key its certificate");
    }
    if (secure == 0 && (caFile != null || certFile != null)) {
      throw new IllegalArgumentException("an etcd CA or client certificate needs TLS (https://) endpoints");
    }
    if ((user == null) != (password == null)) {
      throw new IllegalArgumentException("an etcd user needs a password, and a password a user");
    }
    if (user != null && (user.isEmpty() || password.isEmpty())) {
      throw new IllegalArgumentException("the etcd user name and password must not be empty");
    }
  }

  /** Plaintext, no authentication. */
  public static EtcdClientConfig plaintext(List<URI> endpoints, Duration timeout) {
    return new EtcdClientConfig(endpoints, timeout, null, null, null, null, null, DEFAULT_RELOAD_INTERVAL);
  }

  public boolean tls() {
    return "https".equals(endpoints.get(0).getScheme());
  }

  public EtcdClientConfig withTls(Path caFile, Path certFile, Path keyFile) {
    return new EtcdClientConfig(endpoints, timeout, caFile, certFile, keyFile, user, password, reloadInterval);
  }

  public EtcdClientConfig withCredentials(String user, String password) {
    return new EtcdClientConfig(endpoints, timeout, caFile, certFile, keyFile, user, password, reloadInterval);
  }

  public EtcdClientConfig withReloadInterval(Duration reloadInterval) {
    return new EtcdClientConfig(endpoints, timeout, caFile, certFile, keyFile, user, password, reloadInterval);
  }

  @Override
  public String toString() {
    return "EtcdClientConfig[endpoints=" + endpoints + ", timeout=" + timeout + ", caFile=" + caFile
        + ", certFile=" + certFile + ", keyFile=" + keyFile + ", user=" + user
        + (password == null ? "" : ", password=***") + ", reloadInterval=" + reloadInterval + "]";
  }
}
