package dev.arbor.liaison;

import dev.arbor.errors.AbortedException;
import dev.arbor.errors.AlreadyExistsException;
import dev.arbor.errors.FailedPreconditionException;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.errors.UnavailableException;
import dev.arbor.storage.StorageException;
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

  private StatusMapping() {}

  public static Status toStatus(Throwable t) {
    if (t instanceof StatusRuntimeException sre) {
      return sre.getStatus();
    }
    if (t instanceof InvalidArgumentException) {
      return Status.INVALID_ARGUMENT.withDescription(t.getMessage());
    }
    if (t instanceof NotFoundException) {
      return Status.NOT_FOUND.withDescription(t.getMessage());
    }
    if (t instanceof AlreadyExistsException) {
      return Status.ALREADY_EXISTS.withDescription(t.getMessage());
    }
    if (t instanceof FailedPreconditionException) {
      return Status.FAILED_PRECONDITION.withDescription(t.getMessage());
    }
    if (t instanceof AbortedException) {
      return Status.ABORTED.withDescription(t.getMessage());
    }
    if (t instanceof UnavailableException) {
      return Status.UNAVAILABLE.withDescription(t.getMessage());
    }
    if (t instanceof StorageException) {
      LOG.error("storage failure", t);
      return Status.INTERNAL.withDescription("storage failure: " + t.getMessage());
    }
    LOG.error("unexpected failure", t);
    return Status.INTERNAL.withDescription("internal error: " + t);
  }

  /** Runs a unary handler and completes the call with its result or the mapped error. */
  public static <T> void unary(StreamObserver<T> observer, Supplier<T> handler) {
    T result;
    try {
      result = handler.get();
    } catch (Throwable t) {
      observer.onError(toStatus(t).asRuntimeException());
      return;
    }
    observer.onNext(result);
    observer.onCompleted();
  }
}
