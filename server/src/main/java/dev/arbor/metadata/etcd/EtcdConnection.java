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
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
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
  private final List<URI> endpoints;
  private final String endpointText;
  private final Duration timeout;
  private final AtomicBoolean available = new AtomicBoolean(true);
  private final AtomicBoolean closed = new AtomicBoolean();

  private EtcdConnection(Client client, List<URI> endpoints, Duration timeout) {
    this.client = client;
    this.endpoints = endpoints;
    this.endpointText = endpoints.stream().map(URI::toString).collect(Collectors.joining(","));
    this.timeout = timeout;
  }

  /**
   * Connects and checks that etcd answers within {@code timeout}; otherwise throws
   * {@link UnavailableException} ("cannot reach etcd at ... within 5s") and leaves nothing running.
   */
  public static EtcdConnection connect(List<URI> endpoints, Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (endpoints == null || endpoints.isEmpty()) {
      throw new IllegalArgumentException("at least one etcd endpoint is required");
    }
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("etcd timeout must be > 0, got " + timeout);
    }
    List<URI> eps = List.copyOf(endpoints);
    Client client =
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
            .keepaliveWithoutCalls(true)
            .build();
    EtcdConnection c = new EtcdConnection(client, eps, timeout);
    try {
      // A count-only read: cheap, and proves a member answers (not just that a socket opened).
      ByteSequence probe = bytes("/arbor-connect-probe");
      c.call(
          client.getKVClient().get(probe, GetOption.builder().withCountOnly(true).build()),
          "connect",
          false);
    } catch (RuntimeException e) {
      client.close();
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      throw new UnavailableException(
          "cannot reach etcd at " + c.endpointText + " within " + Durations.format(timeout)
              + " (" + (cause instanceof TimeoutException ? "no answer" : describe(cause)) + ")",
          e);
    }
    return c;
  }

  public Client client() {
    return client;
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
    }
  }
}
