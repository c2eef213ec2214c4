package dev.arbor.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import dev.arbor.testing.RawCalls;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The concurrency cap over a real gRPC server on loopback, with handlers that block until released. */
class CallLimiterTest {
  private static final MethodDescriptor<byte[], byte[]> WAIT = MethodDescriptor.<byte[], byte[]>newBuilder()
      .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("test.Blocking/Wait")
      .setRequestMarshaller(RawCalls.BYTES).setResponseMarshaller(RawCalls.BYTES).build();

  private final CountDownLatch release = new CountDownLatch(1);
  private final CallLimiter limiter = new CallLimiter(2);
  private Server server;
  private ManagedChannel channel;
  private final ExecutorService callers = Executors.newFixedThreadPool(4);

  @BeforeEach
  void start() throws Exception {
    ServerServiceDefinition blocking = ServerServiceDefinition.builder("test.Blocking")
        .addMethod(WAIT, ServerCalls.asyncUnaryCall((req, obs) -> {
          try {
            release.await(30, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          obs.onNext(req);
          obs.onCompleted();
        })).build();
    server = BareServers.start("127.0.0.1", 0, ServerInterceptors.intercept(blocking, limiter));
    channel = ChannelFactory.plaintext().open("127.0.0.1:" + server.getPort(), MessageLimits.MAX_MESSAGE_BYTES);
  }

  @AfterEach
  void stop() throws Exception {
    release.countDown();
    callers.shutdownNow();
    channel.shutdownNow();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private byte[] call(Duration deadline) {
    return ClientCalls.blockingUnaryCall(channel, WAIT,
        CallOptions.DEFAULT.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS), new byte[] {7});
  }

  @Test
  void overTheCapACallIsRefusedAtOnceAndSlotsComeBack() throws Exception {
    List<Future<byte[]>> held = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      held.add(callers.submit(() -> call(Duration.ofSeconds(30))));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> limiter.inFlight() == 2);
    StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class, () -> call(Duration.ofSeconds(30)));
    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(refused.getStatus().getDescription()).contains("--max-concurrent-calls");
    assertThat(limiter.refused()).isEqualTo(1);

    release.countDown();
    for (Future<byte[]> f : held) {
      assertThat(f.get(30, TimeUnit.SECONDS)).containsExactly(7);
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> limiter.inFlight() == 0);
    assertThat(call(Duration.ofSeconds(30))).containsExactly(7);
  }

  @Test
  void aCallCancelledByItsDeadlineGivesItsSlotBack() {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> call(Duration.ofMillis(200)));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    // The handler still blocks, but the cancelled call no longer holds a slot once it completes:
    // here the handler is released and the slot must come back.
    release.countDown();
    await().atMost(Duration.ofSeconds(30)).until(() -> limiter.inFlight() == 0);
  }
}
