package dev.arbor.repair.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.repair.v1.TreeRoot;
import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SessionResponse;
import dev.arbor.testing.SilentPeer;
import dev.arbor.transport.ChannelFactory;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The repair session's transport ({@link SessionStreams}) is callbacks: opening a session and
 * sending on it never wait for the peer, and a peer that never answers ends the stream with the
 * deadline — against a real peer on loopback. {@link Conversation} turns that into the session
 * client's bounded waits, failing with {@link SyncFailedException} naming the peer.
 */
class SessionStreamsTest {
  @Test
  void aSessionWithAHungPeerOpensAndSendsAtOnceAndEndsAtItsDeadline() throws Exception {
    try (SilentPeer peer = new SilentPeer()) {
      ManagedChannel channel = ChannelFactory.plaintext().open(peer.address(), 4 << 20);
      try {
        CompletableFuture<Status> ended = new CompletableFuture<>();
        StreamObserver<SessionRequest> requests = SessionStreams.grpc(channel).open(
            Deadline.after(3, TimeUnit.SECONDS), new StreamObserver<>() {
              @Override
              public void onNext(SessionResponse r) {
                ended.completeExceptionally(new AssertionError("a silent peer answered"));
              }

              @Override
              public void onError(Throwable t) {
                ended.complete(Status.fromThrowable(t));
              }

              @Override
              public void onCompleted() {
                ended.complete(Status.OK);
              }
            });
        requests.onNext(SessionRequest.newBuilder().setTreeRoot(TreeRoot.getDefaultInstance()).build());
        assertThat(ended).as("neither opening nor sending waits for the peer").isNotDone();
        await().atMost(Duration.ofSeconds(20)).until(ended::isDone);
        assertThat(ended.get().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);

        try (Conversation c = new Conversation(SessionStreams.grpc(channel), "p9",
            Deadline.after(1, TimeUnit.SECONDS), Duration.ofSeconds(20))) {
          assertThatThrownBy(() -> c.call(SessionRequest.newBuilder().setTreeRoot(TreeRoot.getDefaultInstance()).build()))
              .isInstanceOf(SyncFailedException.class).hasMessageContaining("peer p9: DEADLINE_EXCEEDED");
        }
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    }
  }
}
