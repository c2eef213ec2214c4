package dev.arbor.server.cli;

import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceGrpc;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceGrpc;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.MessageLimits;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A gRPC channel (plaintext or TLS, with or without credentials) to one Arbor endpoint for the duration of one client command. Stubs
 * carry the command's {@code --timeout} as a per-call deadline, and {@link #call} rewrites
 * transport failures into one line that names the target.
 */
final class ApiChannel implements AutoCloseable {
  private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(5);

  /** A plain {@code host:port} or {@code [v6]:port} target (not a {@code scheme:///} URI). */
  private static final Pattern HOST_PORT =
      Pattern.compile("(?:\\[([0-9A-Fa-f:.%\\w]+)]|([^:/\\[\\]]+)):(\\d{1,5})");

  /** Native transport prefix ("finishConnect(..) failed with error(-111): ") says nothing new. */
  private static final Pattern NATIVE_PREFIX =
      Pattern.compile("^\\w+\\(\\.\\.\\) failed with error\\(-?\\d+\\): ");

  /** What grpc-java reports when the server hangs up during connection setup, e.g. a TLS port spoken to in plaintext. */
  private static final String CLOSED_IN_SETUP = "Network closed for unknown reason";

  private final String target;
  private final Duration timeout;
  private final ManagedChannel channel;
  private final boolean tls;

  private ApiChannel(String target, Duration timeout, ManagedChannel channel, boolean tls) {
    this.target = target;
    this.timeout = timeout;
    this.channel = channel;
    this.tls = tls;
  }

  static ApiChannel open(String target, Duration timeout, ChannelFactory channels) {
    checkResolvable(target);
    ManagedChannel channel;
    try {
      channel = channels.open(target, MessageLimits.CLIENT_MAX_INBOUND_BYTES);
    } catch (IllegalArgumentException e) {
      throw new CliInputException("invalid --target '" + target + "': " + Messages.oneLine(e));
    }
    return new ApiChannel(target, timeout, channel, channels.security().tls());
  }

  /**
   * Resolves the host of a plain {@code host:port} target up front: gRPC would report an
   * unknown host only after logging a warning with a stack trace to stderr.
   */
  private static void checkResolvable(String target) {
    Matcher m = HOST_PORT.matcher(target);
    if (!m.matches()) {
      return;
    }
    String host = m.group(1) != null ? m.group(1) : m.group(2);
    try {
      InetAddress.getAllByName(host);
    } catch (UnknownHostException e) {
      throw Status.UNAVAILABLE
          .withDescription("cannot reach " + target + " (unknown host " + host + ")")
          .asRuntimeException();
    }
  }

  // Stubs are created per call so each call's deadline starts when it is made.

  GroupRegistryServiceGrpc.GroupRegistryServiceBlockingStub groups() {
    return GroupRegistryServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  PropertyRegistryServiceGrpc.PropertyRegistryServiceBlockingStub schemas() {
    return PropertyRegistryServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  PropertyServiceGrpc.PropertyServiceBlockingStub properties() {
    return PropertyServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  dev.arbor.api.admin.v1.TreeAdminServiceGrpc.TreeAdminServiceBlockingStub treeAdmin() {
    return dev.arbor.api.admin.v1.TreeAdminServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  dev.arbor.api.repair.v1.RepairAdminServiceGrpc.RepairAdminServiceBlockingStub repairAdmin() {
    return dev.arbor.api.repair.v1.RepairAdminServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** For long calls (a repair round): the deadline is the caller's, not {@code --timeout}. */
  dev.arbor.api.repair.v1.RepairAdminServiceGrpc.RepairAdminServiceBlockingStub repairAdmin(Duration deadline) {
    return dev.arbor.api.repair.v1.RepairAdminServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Runs one RPC; failures that are about reaching the server get a message naming it. */
  <T> T call(Supplier<T> rpc) {
    try {
      return rpc.get();
    } catch (StatusRuntimeException e) {
      throw translate(e);
    }
  }

  private StatusRuntimeException translate(StatusRuntimeException e) {
    Status status = e.getStatus();
    switch (status.getCode()) {
      case UNAVAILABLE:
        // A transport failure carries its cause (connection refused, unknown host); an
        // UNAVAILABLE the server itself sent (e.g. no replica up) has none and is kept as is.
        if (!tls && CLOSED_IN_SETUP.equals(status.getDescription())) {
          return Status.UNAVAILABLE
              .withDescription("cannot reach " + target + " (the server closed the connection during setup;"
                  + " if it serves TLS, give --tls-ca-file)")
              .asRuntimeException();
        }
        if (status.getCause() != null || status.getDescription() == null) {
          String why = status.getCause() != null
              ? NATIVE_PREFIX.matcher(Messages.oneLine(status.getCause())).replaceFirst("")
              : "no details";
          if (tls && status.getCause() instanceof javax.net.ssl.SSLException) {
            why = "TLS handshake failed: " + Messages.oneLine(rootCause(status.getCause()));
          } else if (!tls && why.contains("Connection reset")) {
            // A TLS server answers plaintext bytes by closing during setup or, depending on
            // timing, by resetting the connection: both get the same hint.
            why += "; if it serves TLS, give --tls-ca-file";
          }
          return Status.UNAVAILABLE
              .withDescription("cannot reach " + target + " (" + why + ")")
              .asRuntimeException();
        }
        return e;
      case DEADLINE_EXCEEDED:
        return Status.DEADLINE_EXCEEDED
            .withDescription(
                "no answer from " + target + " within " + DurationConverter.format(timeout)
                    + " (see --timeout)")
            .asRuntimeException();
      default:
        return e;
    }
  }

  private static Throwable rootCause(Throwable t) {
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t;
  }

  @Override
  public void close() {
    channel.shutdown();
    try {
      if (!channel.awaitTermination(SHUTDOWN_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
        channel.shutdownNow();
        channel.awaitTermination(1, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      channel.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
