package dev.arbor.transport;

import dev.arbor.errors.AbortedException;
import dev.arbor.errors.AlreadyExistsException;
import dev.arbor.errors.FailedPreconditionException;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.IoFailureException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.errors.UnavailableException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single mapping from Arbor's domain exceptions to gRPC statuses, and the wrapper every unary
 * handler runs in, so that every call answers (never hangs) with a precise code — the official
 * client reconnects on UNKNOWN, so unexpected failures are reported as INTERNAL.
 */
public final class StatusMapping {
  private static final Logger LOG = LoggerFactory.getLogger(StatusMapping.class);

  /** Characters of an error message sent back; even all 3-byte UTF-8, encoded it stays under 8 KiB. */
  static final int MAX_DESCRIPTION = BoundedDescriptions.MAX_DESCRIPTION;

  private StatusMapping() {}

  public static Status toStatus(Throwable t) {
    if (t instanceof StatusRuntimeException sre) {
      return sre.getStatus();
    }
    if (t instanceof InvalidArgumentException) {
      return Status.INVALID_ARGUMENT.withDescription(bounded(t.getMessage()));
    }
    if (t instanceof NotFoundException) {
      return Status.NOT_FOUND.withDescription(bounded(t.getMessage()));
    }
    if (t instanceof AlreadyExistsException) {
      return Status.ALREADY_EXISTS.withDescription(bounded(t.getMessage()));
    }
    if (t instanceof FailedPreconditionException) {
      return Status.FAILED_PRECONDITION.withDescription(bounded(t.getMessage()));
    }
    if (t instanceof AbortedException) {
      return Status.ABORTED.withDescription(bounded(t.getMessage()));
    }
    if (t instanceof dev.arbor.errors.ResourceExhaustedException) {
      return Status.RESOURCE_EXHAUSTED.withDescription(t.getMessage());
    }
    if (t instanceof UnavailableException) {
      return Status.UNAVAILABLE.withDescription(bounded(t.getMessage()));
    }
    // Callers get a reference to the log line, never the exception text: it can name files,
    // peers and internals that are none of a client's business.
    String incident = Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong() >>> 16);
    if (t instanceof dev.arbor.errors.WriteOutcomeUnknownException) {
      // The message names group and shard only, never files: the caller needs it to decide.
      LOG.error("write with unknown outcome (incident {})", incident, t);
      return Status.INTERNAL.withDescription(bounded(t.getMessage() + " (incident " + incident
          + ", details in the server log)"));
    }
    if (t instanceof IoFailureException) {
      LOG.error("storage failure (incident {})", incident, t);
      return Status.INTERNAL.withDescription(
          "storage failure (incident " + incident + ", details in the server log); a write's outcome is unknown");
    }
    LOG.error("unexpected failure (incident {})", incident, t);
    return Status.INTERNAL.withDescription("internal error (incident " + incident + ", details in the server log)");
  }

  /**
   * A description short enough for the trailers: messages echo names from the request, and one
   * past the client's header-list limit (8 KiB in grpc-java, percent-encoded) turns the answer
   * into an INTERNAL "http2 exception" on the client.
   */
  static String bounded(String message) {
    return BoundedDescriptions.bounded(message);
  }

  /** Runs a unary handler and completes the call with its result or the mapped error. */
  public static <T> void unary(StreamObserver<T> observer, Supplier<T> handler) {
    T result;
    try {
      result = handler.get();
    } catch (RuntimeException e) {
      observer.onError(toStatus(e).asRuntimeException());
      return;
    } catch (Error e) {
      // An Error (out of memory, a broken class path) is not a request's failure: answer, log,
      // and let it propagate; the launcher runs the JVM with -XX:+ExitOnOutOfMemoryError.
      LOG.error("fatal error in a call handler", e);
      observer.onError(Status.INTERNAL.withDescription("internal error").asRuntimeException());
      throw e;
    }
    observer.onNext(result);
    observer.onCompleted();
  }
}
