package dev.arbor.metadata.etcd;

import dev.arbor.config.Durations;
import dev.arbor.errors.UnavailableException;
import dev.arbor.storage.StorageException;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.options.GetOption;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Deadline;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One jetcd client with the rules every etcd call of Arbor follows: a deadline on every call
 * ({@link #call}), connectivity failures turned into {@link UnavailableException} naming the
 * endpoints, and the loss and return of etcd logged once per transition, not per call.
 *
 * <p>Shared by {@link EtcdMetadataStore} and {@link EtcdNodeRegistry} when a process uses both;
 * whoever opened it closes it.
 */
public final class EtcdConnection implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EtcdConnection.class);

  private final Client client;
  /** The reloading TLS files, null over plaintext. */
  private final EtcdTls tls;
  private final List<URI> endpoints;
  private final String endpointText;
  private final Duration timeout;
  private final AtomicBoolean available = new AtomicBoolean(true);
  private final AtomicBoolean closed = new AtomicBoolean();

  private EtcdConnection(Client client, EtcdTls tls, List<URI> endpoints, Duration timeout) {
    this.client = client;
    this.tls = tls;
    this.endpoints = endpoints;
    this.endpointText = endpoints.stream().map(URI::toString).collect(Collectors.joining(","));
    this.timeout = timeout;
  }

  /**
   * Connects and checks that etcd answers within {@code timeout}; otherwise throws
   * {@link UnavailableException} ("cannot reach etcd at ... within 5s") and leaves nothing running.
   */
  public static EtcdConnection connect(List<URI> endpoints, Duration timeout) {
    return connect(EtcdClientConfig.plaintext(endpoints, timeout));
  }

  /**
   * The one place Arbor builds a jetcd client: connects as {@code config} says (TLS, client
   * certificate, user and password) and checks that etcd answers within its timeout. A refused
   * handshake or rejected credentials end the attempt with an {@link UnavailableException} that
   * says so; a bad certificate or key file with an {@link IllegalArgumentException} naming it.
   */
  public static EtcdConnection connect(EtcdClientConfig config) {
    Duration timeout = config.timeout();
    List<URI> eps = config.endpoints();
    var builder =
        Client.builder()
            .endpoints(eps.toArray(URI[]::new))
            .connectTimeout(timeout)
            // One attempt per call, with a gRPC deadline (below): a call that is given up on is
            // also dead on the wire. Without the deadline, jetcd's wait-for-ready queues a write
            // while etcd is away and sends it when etcd returns, long after the caller was told
            // it failed.
            .retryMaxAttempts(0)
            .retryMaxDuration(timeout)
            .interceptor(new UnaryDeadline(timeout))
            .keepaliveTime(Duration.ofSeconds(10))
            .keepaliveTimeout(Duration.ofSeconds(5))
            .keepaliveWithoutCalls(true);
    EtcdTls tls = null;
    if (config.tls()) {
      // Each endpoint's certificate is checked against that endpoint's host (jetcd's resolver
      // sets a per-address authority), as etcdctl does.
      tls = EtcdTls.load(config);
      builder.sslContext(tls.sslContext());
    }
    if (config.user() != null) {
      if (!config.tls()) {
        log.warn("sending the etcd password of user {} over plaintext (etcd:// endpoints); use etcds:// to"
            + " encrypt it", config.user());
      }
      builder.user(bytes(config.user())).password(bytes(config.password()));
    }
    Client client;
    try {
      client = builder.build();
    } catch (RuntimeException e) {
      if (tls != null) {
        tls.close();
      }
      throw e;
    }
    EtcdConnection c = new EtcdConnection(client, tls, eps, timeout);
    try {
      // A count-only read: cheap, and proves a member answers (not just that a socket opened).
      ByteSequence probe = bytes("/arbor-connect-probe");
      c.call(
          client.getKVClient().get(probe, GetOption.builder().withCountOnly(true).build()),
          "connect",
          false);
    } catch (RuntimeException e) {
      client.close();
      if (tls != null) {
        tls.close();
      }
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof TimeoutException || statusCode(cause) == Status.Code.DEADLINE_EXCEEDED) {
        cause = diagnose(builder, cause);
      }
      throw new UnavailableException(
          "cannot reach etcd at " + c.endpointText + " within " + Durations.format(timeout)
              + " (" + connectFailure(cause, config) + ")",
          e);
    }
    return c;
  }

  /**
   * Why the connection got no answer. jetcd's calls wait for the channel to become ready, so a
   * refused handshake (or a refused connection) shows only as a timeout; one more probe on a
   * client that fails fast instead surfaces the reason. Returns {@code timeout} when that probe
   * learns nothing (etcd silent: start-up then gives up after twice the timeout).
   */
  private static Throwable diagnose(io.etcd.jetcd.ClientBuilder builder, Throwable timeout) {
    Duration limit = builder.connectTimeout();
    try (Client probe = builder.copy().waitForReady(false).build()) {
      probe.getKVClient()
          .get(bytes("/arbor-connect-probe"), GetOption.builder().withCountOnly(true).build())
          .get(limit.toNanos(), TimeUnit.NANOSECONDS);
      return timeout;
    } catch (ExecutionException e) {
      return e.getCause() == null ? e : e.getCause();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return timeout;
    } catch (TimeoutException | RuntimeException e) {
      return timeout;
    }
  }

  /** Why the first call failed, in words that point at the likely fix; one line. */
  static String connectFailure(Throwable cause, EtcdClientConfig config) {
    if (cause instanceof TimeoutException || statusCode(cause) == Status.Code.DEADLINE_EXCEEDED) {
      return "no answer";
    }
    for (Throwable t = cause; t != null; t = t.getCause()) {
      if (t instanceof javax.net.ssl.SSLException) {
        return "TLS handshake failed: " + firstLine(describe(t)) + "; " + tlsHint(describe(t), config);
      }
    }
    String text = firstLine(describe(cause));
    Throwable root = cause;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    if (root != cause && root.getMessage() != null) {
      text = text + ": " + firstLine(root.getMessage());
    }
    if (!config.tls() && (text.contains("Network closed for unknown reason")
        || text.contains("Connection reset") || text.contains("HTTP request to an HTTPS server"))) {
      // What a plaintext client sees when etcd speaks TLS: the server hangs up on the first bytes
      // (a close or a reset, depending on timing; CI saw both).
      return text + "; if etcd serves TLS, write the endpoints as etcds:// (with --etcd-ca-file)";
    }
    Status.Code code = statusCode(cause);
    if (text.contains("authentication failed")) {
      return "etcd refused the user name or password of user '" + config.user() + "': " + text;
    }
    if (code == Status.Code.INVALID_ARGUMENT && text.contains("user name is empty")) {
      return "etcd requires authentication: give --etcd-user and a password (" + text + ")";
    }
    if (code == Status.Code.FAILED_PRECONDITION && text.contains("authentication is not enabled")) {
      return "etcd has authentication disabled: drop --etcd-user (" + text + ")";
    }
    if (code == Status.Code.PERMISSION_DENIED) {
      return "user '" + config.user() + "' may not read Arbor's keys (grant its role readwrite on the key prefix"
          + " /arbor): " + text;
    }
    return text;
  }

  private static String tlsHint(String error, EtcdClientConfig config) {
    if (error.contains("PKIX") || error.contains("certification path")) {
      return config.caFile() == null
          ? "etcd's certificate is not signed by a CA the JDK trusts: give --etcd-ca-file"
          : "etcd's certificate is not signed by the CA in --etcd-ca-file " + config.caFile();
    }
    if (error.contains("subject alternative name") || error.contains("No name matching")) {
      return "etcd's certificate does not name the endpoint's host (its subject alternative names must)";
    }
    if (error.contains("bad_certificate") || error.contains("certificate_required") || error.contains("unknown_ca")) {
      return config.certFile() == null
          ? "etcd requires a client certificate (--client-cert-auth): give --etcd-cert-file and --etcd-key-file"
          : "etcd refused the certificate in --etcd-cert-file " + config.certFile()
              + ": is it signed by a CA in etcd's --trusted-ca-file?";
    }
    if (error.contains("not an SSL/TLS record")) {
      return "etcd does not serve TLS there: write the endpoints as etcd://";
    }
    return "check --etcd-ca-file, --etcd-cert-file and --etcd-key-file";
  }

  private static Status.Code statusCode(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof EtcdException ee) {
        return Status.Code.valueOf(ee.getErrorCode().name());
      }
      if (c instanceof io.grpc.StatusRuntimeException || c instanceof io.grpc.StatusException) {
        return Status.fromThrowable(c).getCode();
      }
    }
    return Status.Code.UNKNOWN;
  }

  public Client client() {
    return client;
  }

  /** The TLS files in use (reloaded when they change), null over plaintext. */
  EtcdTls tls() {
    return tls;
  }

  public List<URI> endpoints() {
    return endpoints;
  }

  /** The endpoints as given, comma-separated (what error messages name). */
  public String endpointText() {
    return endpointText;
  }

  public Duration timeout() {
    return timeout;
  }

  /** Whether the last call or watch reached etcd. */
  public boolean isAvailable() {
    return available.get();
  }

  /**
   * Waits for {@code future} at most {@link #timeout()}. Connectivity failures (timeout,
   * UNAVAILABLE, closed client, ...) become {@link UnavailableException} naming the endpoints;
   * other etcd rejections become {@link StorageException}.
   */
  public <T> T call(CompletableFuture<T> future, String what) {
    return call(future, what, true);
  }

  /**
   * Like {@link #call(CompletableFuture, String)}, starting the call with {@code op}, and once
   * more when etcd rejected the authentication token: tokens expire while idle
   * ({@code --auth-token-ttl}) and are revoked when the user's password is set. etcd checks the
   * token before executing anything, and jetcd fetched a fresh one on seeing the rejection, so
   * the repeat is safe and succeeds.
   */
  public <T> T call(Supplier<CompletableFuture<T>> op, String what) {
    try {
      return call(op.get(), what, true);
    } catch (StorageException e) {
      if (!isStaleToken(e.getCause())) {
        throw e;
      }
      log.debug("etcd rejected a stale auth token ({}); sending {} again with a fresh one", describe(e.getCause()), what);
      return call(op.get(), what, true);
    }
  }

  static boolean isStaleToken(Throwable t) {
    String m = t == null ? null : describe(t);
    return m != null && (m.contains("invalid auth token") || m.contains("revision of auth store is old"));
  }

  private <T> T call(CompletableFuture<T> future, String what, boolean trackAvailability) {
    if (!trackAvailability) {
      try {
        return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      } catch (TimeoutException | ExecutionException e) {
        future.cancel(true);
        throw new UnavailableException(what + " failed", e instanceof ExecutionException ? e.getCause() : e);
      } catch (InterruptedException e) {
        future.cancel(true);
        Thread.currentThread().interrupt();
        throw new UnavailableException("interrupted while waiting for etcd at " + endpointText, e);
      }
    }
    try {
      T result = future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      markAvailable();
      return result;
    } catch (TimeoutException e) {
      future.cancel(true);
      throw unavailable(what + " got no answer within " + Durations.format(timeout), e);
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw new UnavailableException("interrupted while waiting for etcd at " + endpointText, e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (isConnectivityFailure(cause)) {
        throw unavailable(what + " failed: " + describe(cause), cause);
      }
      markAvailable();
      throw new StorageException(
          "etcd at " + endpointText + " rejected " + what + ": " + describe(cause), cause);
    }
  }

  UnavailableException unavailable(String detail, Throwable cause) {
    markUnavailable(detail);
    return new UnavailableException("etcd at " + endpointText + " is unavailable: " + detail, cause);
  }

  /** Logs (once, until {@link #markAvailable()}) that etcd cannot be reached. */
  void markUnavailable(String detail) {
    if (!closed.get() && available.compareAndSet(true, false)) {
      log.warn(
          "etcd at {} is unreachable ({}); serving the last known metadata, metadata writes fail"
              + " until it returns",
          endpointText,
          detail);
    }
  }

  void markAvailable() {
    if (!closed.get() && available.compareAndSet(false, true)) {
      log.info("etcd at {} is reachable again", endpointText);
    }
  }

  boolean isClosed() {
    return closed.get();
  }

  static boolean isConnectivityFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof EtcdException ee) {
        return switch (ee.getErrorCode()) {
          case INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE, RESOURCE_EXHAUSTED,
              PERMISSION_DENIED, UNAUTHENTICATED, NOT_FOUND, ALREADY_EXISTS, UNIMPLEMENTED,
              DATA_LOSS -> false;
          default -> true;
        };
      }
      if (c instanceof io.grpc.StatusRuntimeException || c instanceof io.grpc.StatusException) {
        Status.Code code = Status.fromThrowable(c).getCode();
        return code == Status.Code.UNAVAILABLE
            || code == Status.Code.DEADLINE_EXCEEDED
            || code == Status.Code.CANCELLED
            || code == Status.Code.UNKNOWN
            || code == Status.Code.INTERNAL
            || code == Status.Code.ABORTED;
      }
    }
    return true; // connection-level exceptions (refused, reset, closed channel...)
  }

  /** Puts a deadline on every unary call (not on the watch and lease keep-alive streams). */
  private static final class UnaryDeadline implements ClientInterceptor {
    private final Duration timeout;

    UnaryDeadline(Duration timeout) {
      this.timeout = timeout;
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(
        MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      if (method.getType() == MethodDescriptor.MethodType.UNARY) {
        Deadline d = Deadline.after(timeout.toNanos(), TimeUnit.NANOSECONDS);
        options = options.withDeadline(options.getDeadline() == null ? d : d.minimum(options.getDeadline()));
      }
      return next.newCall(method, options);
    }
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl).strip();
  }

  static String describe(Throwable t) {
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
  }

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      client.close();
      if (tls != null) {
        tls.close();
      }
    }
  }
}
