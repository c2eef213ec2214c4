package dev.arbor.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.cluster.v1.DataNodeServiceGrpc;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.ReadResponse;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.api.cluster.v1.WriteResponse;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.errors.UnavailableException;
import dev.arbor.testing.SilentPeer;
import dev.arbor.transport.BareServers;
import dev.arbor.transport.PeerFutures;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link DataNodeClient} is asynchronous: its calls return before the node answers, and their
 * futures fail with the same domain exceptions the blocking client threw — against real gRPC
 * servers on loopback (one that never answers, one that refuses, and a port nobody listens on).
 */
class DataNodeClientAsyncTest {
  /** Long enough that a call still pending right after it was made cannot be a slow machine's doing. */
  private static final Duration TIMEOUT = Duration.ofSeconds(3);

  private static final StoredProperty RECORD = StoredProperty.newBuilder().setGroup("g").setEntity("g/n/a").build();
  private static final Key KEY = Key.newBuilder().setGroup("g").setEntity("g/n/a").build();

  @Test
  void callsToAHungNodeReturnAtOnceAndFailUnavailableAtTheirDeadline() throws Exception {
    try (SilentPeer peer = new SilentPeer();
        DataNodeClient client = new DataNodeClient(DataNode.of("d7", peer.address()), TIMEOUT)) {
      CompletableFuture<WriteReply> write = client.write(List.of(RECORD), true, client.deadline());
      CompletableFuture<List<StoredProperty>> read = client.read(List.of(KEY), client.deadline());
      CompletableFuture<List<StoredProperty>> query =
          client.queryShards(QueryRequest.getDefaultInstance(), Map.of("g", List.of(0)), client.deadline());
      assertThat(List.of(write, read, query)).as("no call waits for the node").noneMatch(CompletableFuture::isDone);

      await().atMost(Duration.ofSeconds(20)).until(() -> write.isDone() && read.isDone() && query.isDone());
      for (CompletableFuture<?> f : List.of(write, read, query)) {
        assertThatThrownBy(f::get).isInstanceOf(ExecutionException.class).cause()
            .isInstanceOf(UnavailableException.class)
            .hasMessageContaining("data node d7 (" + peer.address() + ")")
            .hasMessageContaining("did not answer within " + TIMEOUT.toMillis() + " ms");
        assertThatThrownBy(() -> PeerFutures.await(f)).as("a caller that waits sees the domain exception itself")
            .isInstanceOf(UnavailableException.class).hasMessageContaining("d7");
      }
    }
  }

  @Test
  void oneThreadStartsManyCallsToAHungNodeWithoutWaitingForAny() throws Exception {
    try (SilentPeer peer = new SilentPeer();
        DataNodeClient client = new DataNodeClient(DataNode.of("d7", peer.address()), TIMEOUT)) {
      List<CompletableFuture<WriteReply>> calls = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        calls.add(client.write(List.of(RECORD), false, client.deadline()));
      }
      // Blocking calls would take 50 deadlines; these are all in flight at once.
      assertThat(calls).noneMatch(CompletableFuture::isDone);
      CompletableFuture<Void> all = CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new));
      await().atMost(Duration.ofSeconds(20)).until(all::isDone);
      assertThat(calls).allSatisfy(f -> assertThatThrownBy(() -> PeerFutures.await(f))
          .isInstanceOf(UnavailableException.class).hasMessageContaining("did not answer within"));
    }
  }

  @Test
  void aNodeNobodyListensOnFailsTheFutureUnavailableNamingIt() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    try (DataNodeClient dead = new DataNodeClient(DataNode.of("d9", "127.0.0.1:" + port), TIMEOUT)) {
      CompletableFuture<List<StoredProperty>> read = dead.read(List.of(KEY), dead.deadline());
      await().atMost(Duration.ofSeconds(20)).until(read::isDone);
      assertThatThrownBy(() -> PeerFutures.await(read)).isInstanceOf(UnavailableException.class)
          .hasMessageContaining("data node d9 (127.0.0.1:" + port + ") failed: UNAVAILABLE");
    }
  }

  @Test
  void theNodesOwnRejectionsKeepTheirMeaning() throws Exception {
    Server server = BareServers.start("127.0.0.1", 0, new DataNodeServiceGrpc.DataNodeServiceImplBase() {
          @Override
          public void write(WriteRequest r, StreamObserver<WriteResponse> out) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("properties[0].sha: wrong").asRuntimeException());
          }

          @Override
          public void read(ReadRequest r, StreamObserver<ReadResponse> out) {
            out.onError(Status.NOT_FOUND.withDescription("group g not found").asRuntimeException());
          }
        });
    try (DataNodeClient client = new DataNodeClient(DataNode.of("d1", "127.0.0.1:" + server.getPort()), TIMEOUT)) {
      assertThatThrownBy(() -> PeerFutures.await(client.write(List.of(RECORD), true, client.deadline())))
          .isInstanceOf(InvalidArgumentException.class).hasMessage("properties[0].sha: wrong");
      assertThatThrownBy(() -> PeerFutures.await(client.read(List.of(KEY), client.deadline())))
          .isInstanceOf(NotFoundException.class).hasMessage("group g not found");
    } finally {
      server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }
  }
}
