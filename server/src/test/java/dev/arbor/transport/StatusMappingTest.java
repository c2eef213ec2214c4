package dev.arbor.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.storage.StorageException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a caller learns from a failed call: a precise code, and no internals. */
class StatusMappingTest {
  /** Records what a handler answered (a plain observer: there is no call to fake here). */
  private static final class Answers implements StreamObserver<String> {
    final List<Throwable> errors = new ArrayList<>();

    @Override
    public void onNext(String value) {}

    @Override
    public void onError(Throwable t) {
      errors.add(t);
    }

    @Override
    public void onCompleted() {}
  }

  @Test
  void storageFailuresAnswerInternalWithoutTheirMessage() {
    Status s = StatusMapping.toStatus(new StorageException("index write failed: /var/lib/arbor/data/ui/shard-0/_3.cfs"));
    assertThat(s.getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(s.getDescription()).contains("incident").contains("outcome is unknown").doesNotContain("/var/lib");
    Status other = StatusMapping.toStatus(new IllegalStateException("peer 10.0.0.7 said no"));
    assertThat(other.getDescription()).contains("incident").doesNotContain("10.0.0.7").doesNotContain("IllegalState");
  }

  @Test
  void requestErrorsKeepTheirMessage() {
    Status s = StatusMapping.toStatus(new InvalidArgumentException("property.id must not be empty"));
    assertThat(s.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(s.getDescription()).isEqualTo("property.id must not be empty");
  }

  @Test
  void anErrorIsAnsweredAndThenPropagates() {
    Answers answers = new Answers();
    assertThatThrownBy(() -> StatusMapping.unary(answers, () -> {
      throw new OutOfMemoryError("simulated: a real one cannot be raised safely in a test JVM");
    })).isInstanceOf(OutOfMemoryError.class);
    assertThat(answers.errors).hasSize(1);
    assertThat(((StatusRuntimeException) answers.errors.get(0)).getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
  }
}
