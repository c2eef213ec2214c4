package dev.arbor.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import com.google.protobuf.BytesValue;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ServerCalls;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The cap on reply bytes waiting for clients, over a real gRPC server on loopback: a client with a
 * small flow-control window that requests no message leaves its reply queued in the server.
 */
class ReplyBudgetTest {
  private static final int REPLY = 600 * 1024;
  private static final MethodDescriptor<BytesValue, BytesValue> GET =
      MethodDescriptor.<BytesValue, BytesValue>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName("test.Replies/Get")
          .setRequestMarshaller(ProtoUtils.marshaller(BytesValue.getDefaultInstance()))
          .setResponseMarshaller(ProtoUtils.marshaller(BytesValue.getDefaultInstance())).build();

  private Server server;
  private ManagedChannel channel;

  private ReplyBudget start(long capacity) throws Exception {
    ReplyBudget budget = new ReplyBudget(capacity);
    ServerServiceDefinition replies = ServerServiceDefinition.builder("test.Replies")
        .addMethod(GET, ServerCalls.asyncUnaryCall((req, obs) -> {
          // The request's length in KiB: the reply's size.
          int size = req.getValue().isEmpty() ? REPLY : req.getValue().size() * 1024;
          obs.onNext(BytesValue.of(ByteString.copyFrom(new byte[size])));
          obs.onCompleted();
        })).build();
    server = BareServers.start("127.0.0.1", 0, ServerInterceptors.intercept(replies, budget));
    channel = ChannelFactory.plaintext().withFlowControlWindow(16 * 1024)
        .open("127.0.0.1:" + server.getPort(), 4 << 20);
    return budget;
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  /** A call whose reply is read only after {@link Pending#read}. */
  private final class Pending {
    final ClientCall<BytesValue, BytesValue> call = channel.newCall(GET,
        CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS));
    final CompletableFuture<Status> closed = new CompletableFuture<>();
    volatile int received;

    Pending() {
      this(0);
    }

    /** {@code kib} > 0: a reply of that many KiB instead of {@link #REPLY} bytes. */
    Pending(int kib) {
      call.start(new ClientCall.Listener<>() {
        @Override
        public void onMessage(BytesValue message) {
          received = message.getValue().size();
        }

        @Override
        public void onClose(Status status, Metadata trailers) {
          closed.complete(status);
        }
      }, new Metadata());
      call.sendMessage(BytesValue.of(ByteString.copyFrom(new byte[kib])));
      call.halfClose();
    }

    Pending read() {
      call.request(1);
      return this;
    }

    Status status() throws Exception {
      return closed.get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void aReplyBeyondTheCapIsRefusedAndTheBudgetComesBackOnceTheSlowClientReads() throws Exception {
    ReplyBudget budget = start(1 << 20);
    Pending slow = new Pending();
    await().atMost(Duration.ofSeconds(30)).until(() -> budget.queuedBytes() >= REPLY);

    Pending second = new Pending().read();
    Status refused = second.status();
    assertThat(refused.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThat(refused.getDescription()).contains("--max-queued-reply-bytes").contains("waiting for clients");
    assertThat(budget.refused()).isEqualTo(1);

    assertThat(slow.read().status().getCode()).isEqualTo(Status.Code.OK);
    assertThat(slow.received).isEqualTo(REPLY);
    await().atMost(Duration.ofSeconds(30)).until(() -> budget.queuedBytes() == 0);

    Pending third = new Pending().read();
    assertThat(third.status().getCode()).isEqualTo(Status.Code.OK);
    assertThat(third.received).isEqualTo(REPLY);
    await().atMost(Duration.ofSeconds(30)).until(() -> budget.queuedBytes() == 0);
  }

  @Test
  void aReplyLargerThanTheWholeBudgetIsStillSentWhenNothingElseWaits() throws Exception {
    ReplyBudget budget = start(100 * 1024);
    Pending one = new Pending().read();
    assertThat(one.status().getCode()).isEqualTo(Status.Code.OK);
    assertThat(one.received).isEqualTo(REPLY);
    assertThat(budget.refused()).isZero();
    await().atMost(Duration.ofSeconds(30)).until(() -> budget.queuedBytes() == 0);
  }

  @Test
  void aSmallReplyIsNeverRefused() throws Exception {
    ReplyBudget budget = start(100 * 1024);
    Pending slow = new Pending();
    await().atMost(Duration.ofSeconds(30)).until(() -> budget.queuedBytes() >= REPLY);
    Pending small = new Pending(ReplyBudget.ALWAYS_SENT_BELOW / 1024 - 1).read();
    assertThat(small.status().getCode()).isEqualTo(Status.Code.OK);
    assertThat(small.received).isEqualTo(ReplyBudget.ALWAYS_SENT_BELOW - 1024);
    Pending large = new Pending(ReplyBudget.ALWAYS_SENT_BELOW / 1024).read();
    assertThat(large.status().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    slow.call.cancel("gone", null);
  }

  @Test
  void aCancelledSlowCallGivesItsBytesBack() throws Exception {
    ReplyBudget budget = start(1 << 20);
    Pending slow = new Pending();
    await().atMost(Duration.ofSeconds(30)).until(() -> budget.queuedBytes() >= REPLY);
    slow.call.cancel("gone", null);
    await().atMost(Duration.ofSeconds(30)).until(() -> budget.queuedBytes() == 0);
  }
}
