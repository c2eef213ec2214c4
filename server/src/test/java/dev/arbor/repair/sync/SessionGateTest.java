package dev.arbor.repair.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SessionResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import dev.arbor.runtime.NodeRuntime;
import dev.arbor.runtime.Scheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The cap and idle timeout of served repair sessions. The streams are plain recording observers:
 * the gate only sees StreamObservers, and the real sessions behind it are covered elsewhere.
 */
class SessionGateTest {
  private final NodeRuntime runtime = NodeRuntime.system();
  private final Scheduler timers = runtime.newScheduler("test-session-timers");

  @AfterEach
  void stop() {
    runtime.close();
  }

  /** What was sent back on a response stream. */
  private static class Responses implements StreamObserver<SessionResponse> {
    final List<Throwable> errors = new CopyOnWriteArrayList<>();
    volatile boolean completed;

    @Override
    public void onNext(SessionResponse value) {}

    @Override
    public void onError(Throwable t) {
      errors.add(t);
    }

    @Override
    public void onCompleted() {
      completed = true;
    }
  }

  /** A session that ends when its client half-closes, as the real one does. */
  private static StreamObserver<SessionRequest> echo(StreamObserver<SessionResponse> out) {
    return new StreamObserver<>() {
      @Override
      public void onNext(SessionRequest value) {
        out.onNext(SessionResponse.getDefaultInstance());
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        out.onCompleted();
      }
    };
  }

  @Test
  void overTheCapASessionIsRefusedAndAFinishedOneFreesItsSlot() {
    SessionGate gate = new SessionGate(1, Duration.ofMinutes(5), timers);
    Responses first = new Responses();
    StreamObserver<SessionRequest> a = gate.open(first, SessionGateTest::echo);
    Responses second = new Responses();
    gate.open(second, SessionGateTest::echo);
    assertThat(second.errors).singleElement()
        .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED))
        .satisfies(e -> assertThat(Status.fromThrowable(e).getDescription()).contains("--repair-max-sessions"));
    assertThat(gate.refused()).isEqualTo(1);

    a.onNext(SessionRequest.getDefaultInstance());
    a.onCompleted();
    assertThat(first.completed).isTrue();
    assertThat(gate.open()).isZero();
    Responses third = new Responses();
    gate.open(third, SessionGateTest::echo);
    assertThat(third.errors).isEmpty();
    assertThat(gate.open()).isEqualTo(1);
  }

  @Test
  void aClientThatCancelsFreesItsSlot() {
    SessionGate gate = new SessionGate(1, Duration.ofMinutes(5), timers);
    StreamObserver<SessionRequest> a = gate.open(new Responses(), SessionGateTest::echo);
    a.onError(Status.CANCELLED.asRuntimeException());
    assertThat(gate.open()).isZero();
  }

  @Test
  void aSessionWhereNothingMovesIsEndedAndItsSlotFreed() {
    SessionGate gate = new SessionGate(1, Duration.ofMillis(200), timers);
    Responses quiet = new Responses();
    StreamObserver<SessionRequest> a = gate.open(quiet, SessionGateTest::echo);
    await().atMost(Duration.ofSeconds(30)).until(() -> !quiet.errors.isEmpty());
    assertThat(Status.fromThrowable(quiet.errors.get(0)).getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    assertThat(gate.idled()).isEqualTo(1);
    assertThat(gate.open()).isZero();
    // A late message from the client is ignored, not processed after the end.
    a.onNext(SessionRequest.getDefaultInstance());
    assertThat(quiet.errors).hasSize(1);
  }

  @Test
  void theSlotIsFreeWhenThePeerLearnsItsSessionEnded() {
    SessionGate gate = new SessionGate(1, Duration.ofMillis(200), timers);
    List<Integer> openWhenTold = new CopyOnWriteArrayList<>();
    Responses idle = new Responses() {
      @Override
      public void onError(Throwable t) {
        openWhenTold.add(gate.open());
        super.onError(t);
      }
    };
    gate.open(idle, SessionGateTest::echo);
    await().atMost(Duration.ofSeconds(30)).until(() -> !idle.errors.isEmpty());
    Responses done = new Responses() {
      @Override
      public void onCompleted() {
        openWhenTold.add(gate.open());
        super.onCompleted();
      }
    };
    gate.open(done, SessionGateTest::echo).onCompleted();
    // A peer told "ended" (idle timeout, then a normal end) may open its next session at once.
    assertThat(openWhenTold).containsExactly(0, 0);
  }
}
