package dev.arbor.repair.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.arbor.api.repair.v1.RepairServiceGrpc;
import dev.arbor.api.repair.v1.RootCompare;
import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SessionResponse;
import dev.arbor.api.repair.v1.SlotHash;
import dev.arbor.api.repair.v1.TreeRoot;
import dev.arbor.repair.tree.TreeFileReader;
import dev.arbor.transport.ChannelFactory;
import dev.arbor.transport.BareServers;
import dev.arbor.transport.MessageLimits;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mixed versions during a rolling upgrade: the session handshake carries the repair tree format,
 * and peers on different formats refuse with a clear status and a metric, never comparing roots
 * (an old root never matches a format-3 root, and descending would "repair" every leaf).
 */
class TreeFormatHandshakeTest {
  private static final String G = "g";

  @TempDir Path dir;

  @Test
  void aServerRefusesAClientOfAnotherTreeFormatWithFailedPreconditionAndCountsIt() throws Exception {
    try (SyncNode s = new SyncNode(dir, "server", 1)) {
      s.put(RepairSessionTest.rec("a", 10, 0, "x"), RepairSessionTest.rec("b", 10, 0, "y"));
      for (int format : new int[] {0, 2, TreeFileReader.CURRENT_FORMAT + 1}) {
        LinkedBlockingQueue<Object> in = new LinkedBlockingQueue<>();
        StreamObserver<SessionRequest> req = RepairServiceGrpc.newStub(s.channel()).repair(collect(in));
        req.onNext(SessionRequest.newBuilder().setTreeRoot(TreeRoot.newBuilder().setGroup(G).setShard(0)
            .setSlotCount(32).setRoot(ByteString.copyFrom(new byte[64])).setClientNode("old").setTreeFormat(format))
            .build());
        Object first = in.poll(10, TimeUnit.SECONDS);
        assertThat(first).as("format %d", format).isInstanceOf(StatusRuntimeException.class);
        Status st = ((StatusRuntimeException) first).getStatus();
        assertThat(st.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(st.getDescription())
            .contains("repair trees are of format " + (format == 0 ? "2 or older" : Integer.toString(format)))
            .contains("this node's of format " + TreeFileReader.CURRENT_FORMAT)
            .contains("never compared");
        assertThat(s.observed.formatMismatches.poll(10, TimeUnit.SECONDS)).isEqualTo("server:" + format);
      }
      assertThat(s.trees.buildsFinished()).as("a refused session does not even build a tree").isZero();
    }
  }

  /**
   * The peer here stands for a release before format negotiation, which cannot run in this
   * process: it answers tree_root the way such a server did (roots differ, its slot table, no
   * format), and records every request it gets.
   */
  @Test
  void aClientRefusesToDescendIntoAServerOfAnotherTreeFormat() throws Exception {
    List<SessionRequest.BodyCase> received = new CopyOnWriteArrayList<>();
    Server old = BareServers.start("127.0.0.1", 0, new RepairServiceGrpc.RepairServiceImplBase() {
          @Override
          public StreamObserver<SessionRequest> repair(StreamObserver<SessionResponse> out) {
            return new StreamObserver<>() {
              @Override
              public void onNext(SessionRequest r) {
                received.add(r.getBodyCase());
                if (r.hasTreeRoot()) {
                  RootCompare.Builder b = RootCompare.newBuilder().setTreeFound(true).setRootMatch(false)
                      .setSlotCount(32);
                  for (int i = 0; i < 32; i++) {
                    b.addSlots(SlotHash.newBuilder().setIndex(i).setLeafCount(1)
                        .setHash(ByteString.copyFrom(new byte[64])));
                  }
                  out.onNext(SessionResponse.newBuilder().setRootCompare(b).build());
                } else {
                  out.onNext(SessionResponse.getDefaultInstance());
                }
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {
                out.onCompleted();
              }
            };
          }
        });
    ManagedChannel ch = ChannelFactory.plaintext().open("127.0.0.1:" + old.getPort(), MessageLimits.MAX_MESSAGE_BYTES);
    try (SyncNode c = new SyncNode(dir, "client", 1)) {
      c.put(RepairSessionTest.rec("a", 10, 0, "x"), RepairSessionTest.rec("b", 10, 0, "y"));
      assertThatThrownBy(() -> c.client.run(ch, "old-node", G, 0, null, io.grpc.Deadline.after(30, TimeUnit.SECONDS)))
          .isInstanceOf(SyncFailedException.class)
          .hasMessageContaining("peer old-node uses repair tree format 2 or older, this node format "
              + TreeFileReader.CURRENT_FORMAT)
          .satisfies(e -> assertThat(((SyncFailedException) e).abortsRound()).as("other peers are still tried")
              .isFalse());
      assertThat(received).as("nothing after the handshake: no buckets, leaves or records")
          .containsExactly(SessionRequest.BodyCase.TREE_ROOT);
      assertThat(c.observed.formatMismatches).containsExactly("client:0");
    } finally {
      ch.shutdownNow();
      old.shutdownNow();
    }
  }

  private static StreamObserver<SessionResponse> collect(LinkedBlockingQueue<Object> in) {
    return new StreamObserver<>() {
      @Override
      public void onNext(SessionResponse r) {
        in.add(r);
      }

      @Override
      public void onError(Throwable t) {
        in.add(t);
      }

      @Override
      public void onCompleted() {
        in.add("end");
      }
    };
  }
}
