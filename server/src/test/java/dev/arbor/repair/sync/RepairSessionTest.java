package dev.arbor.repair.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.property.EntityKey;
import dev.arbor.property.LastWriteWins;
import dev.arbor.property.PropertyRecord;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata.Key;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two-node repair session between real replicas (spec §11.2 scenarios 16–25, §8.5 LWW rules)
 * over real gRPC on loopback with real Lucene shards and trees.
 */
class RepairSessionTest {
  private static final String G = "g";
  @TempDir Path dir;

  static PropertyRecord rec(String id, long rev, long deleteTime, String value) {
    byte[] source = Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(G).setName("t").setModRevision(rev).setCreateRevision(1))
        .setId(id)
        .addTags(Tag.newBuilder().setKey("v").setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(value))))
        .build().toByteArray();
    PropertyRecord live = PropertyRecord.live(new EntityKey(G, "t", id), rev, 1, source);
    return deleteTime == 0 ? live : live.tombstone(deleteTime);
  }

  /** The shard of an id in a group of {@code shards} shards. */
  static int shard(String id, int shards) {
    return dev.arbor.property.ShardRouter.shardOf(new EntityKey(G, "t", id), shards);
  }

  /** Metadata of one node: group {@link #G} at the given incarnation. */
  private static dev.arbor.storage.GroupIncarnations groupAt(dev.arbor.property.GroupIncarnation incarnation) {
    return new dev.arbor.storage.GroupIncarnations() {
      @Override
      public boolean exists(String group) {
        return group.equals(G);
      }

      @Override
      public java.util.Optional<dev.arbor.property.GroupIncarnation> incarnation(String group) {
        return exists(group) ? java.util.Optional.of(incarnation) : java.util.Optional.empty();
      }
    };
  }

  @Test
  void aSessionBetweenTwoIncarnationsOfTheGroupFailsAndMovesNothing() throws Exception {
    var oldGroup = dev.arbor.property.GroupIncarnation.random();
    var newGroup = dev.arbor.property.GroupIncarnation.random();
    try (SyncNode stale = new SyncNode(dir, "stale", 1, groupAt(oldGroup));
        SyncNode fresh = new SyncNode(dir, "fresh", 1, groupAt(newGroup))) {
      stale.put(rec("old", 10, 0, "of the deleted group"));
      fresh.put(rec("new", 10, 0, "of the new group"));
      // The stale node pushes: the server refuses the session at its first message.
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> stale.syncWith(fresh, G, 0))
          .isInstanceOf(SyncFailedException.class)
          .hasMessageContaining("FAILED_PRECONDITION")
          .hasMessageContaining("incarnation " + newGroup + " on this node, not " + oldGroup);
      assertThat(fresh.serverSessionsEnded()).singleElement().asString().contains("refused");
      // The fresh node pulls: the stale server's incarnation is refused by the server and the client.
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> fresh.syncWith(stale, G, 0))
          .isInstanceOf(SyncFailedException.class).hasMessageContaining("incarnation");
      assertThat(fresh.get(G, "old")).isNull();
      assertThat(stale.get(G, "new")).isNull();
    }
  }

  @Test
  void anOrphanedCopyTakesNoPartInRepairOnEitherSide() throws Exception {
    dev.arbor.storage.CopyFence orphan = (g, s) -> "copy " + g + "/" + s + " is an orphan";
    var groups = dev.arbor.storage.GroupIncarnations.withoutIncarnations(g -> true);
    try (SyncNode owner = new SyncNode(dir, "owner", 1);
        SyncNode stale = new SyncNode(dir, "stale", 1, groups, orphan)) {
      owner.put(rec("1", 10, 0, "x"));
      stale.put(rec("2", 10, 0, "resurrected if repaired from"));
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> owner.syncWith(stale, G, 0))
          .isInstanceOf(SyncFailedException.class).hasMessageContaining("is an orphan");
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> stale.syncWith(owner, G, 0))
          .isInstanceOf(SyncFailedException.class).hasMessageContaining("is an orphan");
      assertThat(owner.get(G, "2")).as("nothing came from the orphan").isNull();
      assertThat(stale.get(G, "1")).isNull();
    }
  }

  @Test
  void scenario16and17_noPrebuiltTrees_theSessionBuildsThemAndConverges() throws Exception {
    try (SyncNode a = new SyncNode(dir, "a", 1); SyncNode b = new SyncNode(dir, "b", 1)) {
      a.put(rec("1", 10, 0, "x"));
      b.put(rec("2", 10, 0, "y"));
      // A shard created empty while its node's trees follow writes is live from its first write.
      assertThat(a.trees.buildsFinished()).as("no tree built before the session").isZero();
      SessionFigures f = a.syncWith(b, G, 0);
      assertThat(f.rootMatch()).isFalse();
      assertThat(f.repairedToServer()).isEqualTo(1);
      assertThat(f.repairedToClient()).isEqualTo(1);
      assertThat(a.get(G, "2")).isEqualTo(b.get(G, "2"));
      assertThat(b.get(G, "1")).isEqualTo(a.get(G, "1"));
    }
  }

  @Test
  void scenario18to20_newerWinsInBothDirections_equalVersionsExchangeNothing() throws Exception {
    try (SyncNode c = new SyncNode(dir, "c", 1); SyncNode s = new SyncNode(dir, "s", 1)) {
      c.put(rec("1", 1, 0, "v1"), rec("2", 2, 0, "v2"), rec("3", 3, 0, "same"));
      s.put(rec("1", 2, 0, "v2"), rec("2", 1, 0, "v1"), rec("3", 3, 0, "same"));
      SessionFigures f = c.syncWith(s, G, 0);
      assertThat(c.get(G, "1").modRevision()).as("18: client takes the server's v2").isEqualTo(2);
      assertThat(s.get(G, "2").modRevision()).as("19: server takes the client's v2").isEqualTo(2);
      assertThat(f.repairedToClient()).isEqualTo(1);
      assertThat(f.repairedToServer()).isEqualTo(1);
      SessionFigures again = c.syncWith(s, G, 0);
      assertThat(again.rootMatch()).as("20: equal replicas match at the root").isTrue();
      assertThat(again.repairedToClient() + again.repairedToServer()).isZero();
    }
  }

  @Test
  void scenario21and22_anEmptySideReceivesEverything() throws Exception {
    try (SyncNode c = new SyncNode(dir, "c", 1); SyncNode s = new SyncNode(dir, "s", 1)) {
      for (int i = 0; i < 500; i++) {
        s.put(rec("s" + i, 5, 0, "x"));
      }
      assertThat(c.syncWith(s, G, 0).repairedToClient()).as("21: empty client pulls").isEqualTo(500);
      try (SyncNode e = new SyncNode(dir, "e", 1)) {
        assertThat(c.syncWith(e, G, 0).repairedToServer()).as("22: empty server gets pushed").isEqualTo(500);
      }
    }
  }

  @Test
  void scenario23_onlyTheRepairedShardChanges() throws Exception {
    String inShard0 = IntStream.range(0, 100).mapToObj(i -> "id" + i).filter(i -> shard(i, 2) == 0).findFirst()
        .orElseThrow();
    String inShard1 = IntStream.range(0, 100).mapToObj(i -> "id" + i).filter(i -> shard(i, 2) == 1).findFirst()
        .orElseThrow();
    try (SyncNode c = new SyncNode(dir, "c", 2); SyncNode s = new SyncNode(dir, "s", 2)) {
      c.put(rec(inShard0, 1, 0, "c"));
      s.put(rec(inShard1, 1, 0, "s"));
      c.syncWith(s, G, 1);
      assertThat(c.get(G, inShard1)).as("client gains the shard-1 property").isNotNull();
      assertThat(s.get(G, inShard0)).as("shard 0 untouched").isNull();
    }
  }

  @Test
  void scenario24and25_threeNodesConvergeInTwoNMinusThreeHops() throws Exception {
    try (SyncNode a = new SyncNode(dir, "a", 1); SyncNode b = new SyncNode(dir, "b", 1);
        SyncNode c = new SyncNode(dir, "c", 1)) {
      a.put(rec("1", 1, 0, "v1"), rec("2", 1, 0, "x"));
      b.put(rec("1", 2, 0, "v2"), rec("3", 1, 0, "y"));
      c.put(rec("1", 3, 0, "v3"), rec("4", 1, 0, "z"));
      ring(List.of(a, b, c));
      for (SyncNode n : List.of(a, b, c)) {
        assertThat(n.get(G, "1").modRevision()).as(n.id).isEqualTo(3);
        assertThat(n.snapshot(G, List.of("2", "3", "4"))).as(n.id).hasSize(3);
      }
    }
  }

  @Test
  void tombstoneAtEqualRevisionWinsAndNeverResurrects_laterDeleteTimeWinsBetweenTombstones() throws Exception {
    try (SyncNode c = new SyncNode(dir, "c", 1); SyncNode s = new SyncNode(dir, "s", 1)) {
      // The client missed the delete and pushes its live copy of the same revision.
      c.put(rec("r", 7, 0, "v"), rec("t", 7, 100, "v"), rec("n", 9, 0, "newer"));
      s.put(rec("r", 7, 50, "v"), rec("t", 7, 200, "v"), rec("n", 8, 70, "older tombstone"));
      c.syncWith(s, G, 0);
      for (SyncNode n : List.of(c, s)) {
        assertThat(n.get(G, "r").deleteTime()).as("%s: tombstone wins over live of equal revision", n.id).isEqualTo(50);
        assertThat(n.get(G, "t").deleteTime()).as("%s: later delete time wins", n.id).isEqualTo(200);
        assertThat(n.get(G, "n").deleted()).as("%s: newer live write beats older tombstone", n.id).isFalse();
      }
      assertThat(c.syncWith(s, G, 0).rootMatch()).isTrue();
    }
  }

  @Test
  void equalRevisionDifferentContent_oneSessionConverges_andTheNextFindsThemInSync() throws Exception {
    // Two liaisons with clocks a few ms apart stamped the same revision on "k" with other tags.
    try (SyncNode c = new SyncNode(dir, "c", 1); SyncNode s = new SyncNode(dir, "s", 1)) {
      PropertyRecord onC = rec("k", 42, 0, "from-liaison-1");
      PropertyRecord onS = rec("k", 42, 0, "from-liaison-2");
      // Both directions: the content winner starts once on the client, once on the server.
      PropertyRecord tc = rec("t", 42, 0, "x").tombstone(77);
      PropertyRecord ts = rec("t", 42, 0, "y").tombstone(77);
      c.put(onC, tc);
      s.put(onS, ts);
      PropertyRecord winK = LastWriteWins.beats(onC, onS) ? onC : onS;
      PropertyRecord winT = LastWriteWins.beats(tc, ts) ? tc : ts;
      SessionFigures f = c.syncWith(s, G, 0);
      assertThat(f.rootMatch()).isFalse();
      assertThat(f.repairedToServer() + f.repairedToClient()).as("each differing key is stored once").isEqualTo(2);
      for (SyncNode n : List.of(c, s)) {
        assertThat(n.get(G, "k")).as(n.id).isEqualTo(winK);
        assertThat(n.get(G, "t")).as(n.id).isEqualTo(winT);
      }
      SessionFigures again = c.syncWith(s, G, 0);
      assertThat(again.rootMatch()).as("the second session finds the replicas in sync").isTrue();
      assertThat(again.repairedToServer() + again.repairedToClient()).isZero();
    }
  }

  @Test
  void randomizedHistoriesOverThreeToFiveReplicasEndWithTheLwwWinnerEverywhere() throws Exception {
    long seed = System.nanoTime();
    System.out.println("[RepairSessionTest] seed=" + seed);
    Random rnd = new Random(seed);
    for (int round = 0; round < 3; round++) {
      int n = 3 + rnd.nextInt(3);
      Path d = dir.resolve("r" + round);
      List<SyncNode> nodes = new ArrayList<>();
      try {
        for (int i = 0; i < n; i++) {
          nodes.add(new SyncNode(d, "n" + i, 2));
        }
        Map<String, PropertyRecord> winner = new HashMap<>();
        List<String> ids = new ArrayList<>();
        for (int k = 0; k < 300; k++) {
          ids.add("k" + k);
        }
        Map<SyncNode, List<PropertyRecord>> took = new HashMap<>();
        long rev = 1;
        for (int op = 0; op < 1500; op++) {
          String id = ids.get(rnd.nextInt(ids.size()));
          PropertyRecord prev = winner.get(id);
          PropertyRecord r;
          int kind = rnd.nextInt(10);
          if (kind < 2 && prev != null && !prev.deleted()) {
            r = prev.tombstone(1000 + rnd.nextInt(1000)); // delete: same revision, a delete time
          } else if (kind == 2 && prev != null) {
            r = rec(id, prev.modRevision(), 0, "concurrent-equal-" + op); // equal revision, other bytes
          } else {
            r = rec(id, rev++, 0, "v" + op);
          }
          // A random non-empty subset of replicas took this write; the others missed it.
          boolean any = false;
          for (SyncNode node : nodes) {
            if (rnd.nextInt(3) > 0) {
              took.computeIfAbsent(node, x -> new ArrayList<>()).add(r);
              any = true;
            }
          }
          if (!any) {
            took.computeIfAbsent(nodes.get(rnd.nextInt(n)), x -> new ArrayList<>()).add(r);
          }
          if (prev == null || LastWriteWins.beats(r, prev)) {
            winner.put(id, r);
          }
        }
        took.forEach(SyncNode::putAll);
        for (int shard = 0; shard < 2; shard++) {
          ring(nodes, shard);
        }
        for (SyncNode node : nodes) {
          for (String id : ids) {
            PropertyRecord expected = winner.get(id);
            PropertyRecord got = node.get(G, id);
            if (expected == null) {
              assertThat(got).as("seed %d: %s on %s", seed, id, node.id).isNull();
              continue;
            }
            assertThat(got).as("seed %d: %s on %s", seed, id, node.id).isNotNull();
            assertThat(LastWriteWins.ORDER.compare(got, expected)).as("seed %d: %s on %s is the LWW winner (got %s, "
                + "want %s)", seed, id, node.id, got, expected).isZero();
          }
        }
      } finally {
        for (SyncNode node : nodes) {
          node.close();
        }
      }
    }
  }

  @Test
  void streamCutAfterKMessages_failsCleanly_andALaterSessionConverges() throws Exception {
    long seed = System.nanoTime();
    System.out.println("[RepairSessionTest] stream-cut seed=" + seed);
    Random rnd = new Random(seed);
    AtomicInteger cutAfter = new AtomicInteger(2 + rnd.nextInt(6));
    // Fault injection: the server transport drops the call after k inbound messages (a cut
    // connection), which cannot be timed deterministically with a real network failure.
    ServerInterceptor cut = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, io.grpc.Metadata headers,
          ServerCallHandler<Q, R> next) {
        AtomicInteger seen = new AtomicInteger();
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
          @Override
          public void onMessage(Q message) {
            if (cutAfter.get() > 0 && seen.incrementAndGet() > cutAfter.get()) {
              call.close(Status.UNAVAILABLE.withDescription("connection cut by the test"), new io.grpc.Metadata());
              return;
            }
            super.onMessage(message);
          }
        };
      }
    };
    try (SyncNode c = new SyncNode(dir, "c", 1); SyncNode s = new SyncNode(dir, "s", 1, cut)) {
      List<PropertyRecord> even = new ArrayList<>();
      List<PropertyRecord> odd = new ArrayList<>();
      for (int i = 0; i < 20_000; i++) {
        (i % 2 == 0 ? even : odd).add(rec("p" + i, 10 + i, 0, "value-" + i));
      }
      c.putAll(even);
      s.putAll(odd);
      assertThatThrownBy(() -> c.syncWith(s, G, 0))
          .isInstanceOfSatisfying(SyncFailedException.class, e -> {
            assertThat(e.abortsRound()).as("a broken stream moves on to the next peer").isFalse();
            assertThat(e.getMessage()).contains("s").contains("UNAVAILABLE");
          });
      // Whatever was applied before the cut is whole: every stored copy is a valid, complete record.
      List<String> ids = IntStream.range(0, 20_000).mapToObj(i -> "p" + i).toList();
      for (SyncNode n : List.of(c, s)) {
        n.snapshot(G, ids).forEach((id, r) -> assertThat(r.modRevision()).isEqualTo(10 + Integer.parseInt(id.substring(1))));
      }
      cutAfter.set(0);
      c.syncWith(s, G, 0);
      assertThat(c.snapshot(G, ids)).hasSize(20_000);
      assertThat(s.snapshot(G, ids)).hasSize(20_000);
      assertThat(c.syncWith(s, G, 0).rootMatch()).isTrue();
    }
  }

  @Test
  void invalidPushedRecordsAreRejectedAndNeverStored_protocolMisuseEndsTheSession() throws Exception {
    try (SyncNode s = new SyncNode(dir, "s", 1)) {
      s.put(rec("1", 1, 0, "x"));
      java.util.concurrent.LinkedBlockingQueue<Object> in = new java.util.concurrent.LinkedBlockingQueue<>();
      var req = dev.arbor.api.repair.v1.RepairServiceGrpc.newStub(s.channel()).repair(new io.grpc.stub.StreamObserver<>() {
        @Override
        public void onNext(dev.arbor.api.repair.v1.SessionResponse r) {
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
      });
      // An exchange before tree_root is a protocol error: INVALID_ARGUMENT naming what is missing.
      req.onNext(dev.arbor.api.repair.v1.SessionRequest.newBuilder()
          .setExchange(dev.arbor.api.repair.v1.PropertyExchange.getDefaultInstance()).build());
      Object first = in.poll(10, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(first).isInstanceOf(io.grpc.StatusRuntimeException.class);
      assertThat(((io.grpc.StatusRuntimeException) first).getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
      assertThat(((io.grpc.StatusRuntimeException) first).getStatus().getDescription()).contains("tree_root first");

      var req2 = dev.arbor.api.repair.v1.RepairServiceGrpc.newStub(s.channel()).repair(new io.grpc.stub.StreamObserver<>() {
        @Override
        public void onNext(dev.arbor.api.repair.v1.SessionResponse r) {
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
      });
      req2.onNext(dev.arbor.api.repair.v1.SessionRequest.newBuilder().setTreeRoot(
          dev.arbor.api.repair.v1.TreeRoot.newBuilder().setGroup(G).setShard(0).setSlotCount(32).setTreeFormat(dev.arbor.repair.tree.TreeFileReader.CURRENT_FORMAT)).build());
      assertThat(in.poll(10, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOf(dev.arbor.api.repair.v1.SessionResponse.class);
      PropertyRecord good = rec("2", 5, 0, "fine");
      var bad = dev.arbor.cluster.StoredProperties.toProto(G, 0, rec("3", 5, 0, "tampered")).toBuilder()
          .setSha(com.google.protobuf.ByteString.copyFrom(new byte[64])).build();
      var wrongShard = dev.arbor.cluster.StoredProperties.toProto(G, 7, rec("4", 5, 0, "elsewhere"));
      req2.onNext(dev.arbor.api.repair.v1.SessionRequest.newBuilder().setExchange(
          dev.arbor.api.repair.v1.PropertyExchange.newBuilder()
              .addPush(dev.arbor.cluster.StoredProperties.toProto(G, 0, good)).addPush(bad).addPush(wrongShard))
          .build());
      var reply = ((dev.arbor.api.repair.v1.SessionResponse) in.poll(10, java.util.concurrent.TimeUnit.SECONDS))
          .getExchange();
      assertThat(reply.getStored()).isEqualTo(1);
      assertThat(reply.getRejected()).isEqualTo(2);
      assertThat(s.get(G, "2")).isEqualTo(good);
      assertThat(s.get(G, "3")).as("a record whose hash does not match is never stored").isNull();
      assertThat(s.get(G, "4")).isNull();
      req2.onCompleted();
    }
  }

  @Test
  void misroutedRecordsAreRejectedOnBothSides_andTheSessionFailsSayingHowManyAndWhy() throws Exception {
    long seed = System.nanoTime();
    System.out.println("[RepairSessionTest] misrouted seed=" + seed);
    Random rnd = new Random(seed);
    List<String> inShard0 = IntStream.range(0, 200).mapToObj(i -> "ok" + i).filter(i -> shard(i, 2) == 0).toList();
    List<String> inShard1 = IntStream.range(0, 200).mapToObj(i -> "bad" + i).filter(i -> shard(i, 2) == 1).toList();
    int bad = 1 + rnd.nextInt(5);
    List<String> misrouted = inShard1.subList(0, bad);
    String good = inShard0.get(rnd.nextInt(inShard0.size()));
    String sharedOnPeer = inShard0.get(0).equals(good) ? inShard0.get(1) : inShard0.get(0);

    // Push side: the client holds copies in shard 0 of entities that route to shard 1 of 2 (say
    // written while it had another shard count); the server refuses them.
    try (SyncNode c = new SyncNode(dir, "c", 2); SyncNode s = new SyncNode(dir, "s", 2)) {
      c.put(rec(good, 5, 0, "fine"));
      if (rnd.nextBoolean()) {
        s.put(rec(sharedOnPeer, 5, 0, "server")); // exercises the merge path instead of push-all
      }
      for (String id : misrouted) {
        c.putInShard(0, rec(id, 5, 0, "misrouted"));
      }
      assertThatThrownBy(() -> c.syncWith(s, G, 0)).isInstanceOfSatisfying(SyncFailedException.class, e -> {
        assertThat(e.abortsRound()).as("seed %d: the peer refused this node's own copies", seed).isTrue();
        assertThat(e.getMessage()).as("seed %d", seed).contains("peer s")
            .contains(bad + " record(s) pushed to it rejected")
            .contains(" routes to shard 1 of 2, not 0")
            .matches(m -> misrouted.stream().anyMatch(id -> m.contains("g/t/" + id + " routes")), "names an entity");
      });
      assertThat(s.get(G, good)).as("seed %d: the valid record was still repaired", seed).isNotNull();
      for (String id : misrouted) {
        assertThat(s.store.latest(G, 0, new EntityKey(G, "t", id))).as("seed %d: %s never stored", seed, id).isNull();
      }
      assertThat(s.observed.rejected.get()).isEqualTo(bad);
      String serverError = s.observed.serverSessions.poll(10, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(serverError).as("seed %d: the server's session failed too", seed)
          .contains(bad + " pushed record(s) from c rejected").contains("routes to shard 1 of 2, not 0");
    }

    // Pull side: the server holds the misrouted copies; the client refuses what it receives.
    try (SyncNode c = new SyncNode(dir, "c2", 2); SyncNode s = new SyncNode(dir, "s2", 2)) {
      s.put(rec(good, 5, 0, "fine"));
      if (rnd.nextBoolean()) {
        c.put(rec(sharedOnPeer, 5, 0, "client")); // fetched through exchanges instead of pulled pages
      }
      for (String id : misrouted) {
        s.putInShard(0, rec(id, 5, 0, "misrouted"));
      }
      assertThatThrownBy(() -> c.syncWith(s, G, 0)).isInstanceOfSatisfying(SyncFailedException.class, e -> {
        assertThat(e.abortsRound()).as("seed %d: a peer sending bad records fails only this hop", seed).isFalse();
        assertThat(e.getMessage()).as("seed %d", seed).contains("peer s2")
            .contains(bad + " record(s) received from it rejected")
            .contains(" routes to shard 1 of 2, not 0")
            .matches(m -> misrouted.stream().anyMatch(id -> m.contains("g/t/" + id + " routes")), "names an entity");
      });
      assertThat(c.get(G, good)).as("seed %d: the valid record was still repaired", seed).isNotNull();
      for (String id : misrouted) {
        assertThat(c.store.latest(G, 0, new EntityKey(G, "t", id))).as("seed %d: %s never stored", seed, id).isNull();
      }
      assertThat(c.observed.rejected.get()).isEqualTo(bad);
    }
  }

  @Test
  void largePropertiesMoveInBoundedMessagesInBothDirections() throws Exception {
    // 1 MiB properties (the default size limit): a page, an exchange and its reply must stay
    // under the 64 MiB message limit whatever the counts.
    String big = "x".repeat(1 << 20);
    try (SyncNode c = new SyncNode(dir, "c", 1); SyncNode s = new SyncNode(dir, "s", 1)) {
      List<PropertyRecord> onC = new ArrayList<>();
      List<PropertyRecord> onS = new ArrayList<>();
      for (int i = 0; i < 150; i++) {
        onC.add(rec("c" + i, 10, 0, big + i));
        onS.add(rec("s" + i, 10, 0, big + i));
      }
      // Shared keys where the server is newer, so its copies come back in exchange replies.
      for (int i = 0; i < 100; i++) {
        onC.add(rec("both" + i, 1, 0, big));
        onS.add(rec("both" + i, 2, 0, big + "new"));
      }
      c.putAll(onC);
      s.putAll(onS);
      SessionFigures f = c.syncWith(s, G, 0);
      assertThat(f.repairedToServer()).isEqualTo(150);
      assertThat(f.repairedToClient()).isEqualTo(250);
      assertThat(c.syncWith(s, G, 0).rootMatch()).isTrue();
    }
    try (SyncNode empty = new SyncNode(dir, "e", 1); SyncNode full = new SyncNode(dir, "f", 1)) {
      List<PropertyRecord> all = new ArrayList<>();
      for (int i = 0; i < 120; i++) {
        all.add(rec("p" + i, 10, 0, big + i));
      }
      full.putAll(all);
      assertThat(empty.syncWith(full, G, 0).repairedToClient()).as("pulled in pages").isEqualTo(120);
    }
  }

  /** The gossip chain of one round over {@code nodes} in ring order: 2n−3 sessions. */
  private static void ring(List<SyncNode> nodes) {
    ring(nodes, 0);
  }

  private static void ring(List<SyncNode> nodes, int shard) {
    int n = nodes.size();
    for (int hop = 0; hop < 2 * n - 3; hop++) {
      nodes.get(hop % n).syncWith(nodes.get((hop + 1) % n), G, shard);
    }
  }
}
