package dev.arbor.repair.sync;

import static dev.arbor.repair.sync.RepairSessionTest.rec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.BulkIntake;
import dev.arbor.storage.BulkRefusedException;
import dev.arbor.storage.CopyFence;
import dev.arbor.storage.DocumentCodec;
import dev.arbor.storage.GroupIncarnations;
import dev.arbor.storage.ShardFiles;
import io.grpc.ForwardingServerCallListener;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.apache.lucene.index.CorruptIndexException;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.store.IndexInput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bulk transfer to an empty replica between two real data nodes (real stores, trees, gRPC on
 * loopback): the sender's commit files are staged, verified and attached by the receiver, and the
 * record session after it leaves both replicas equal.
 */
class BulkTransferTest {
  private static final String G = "g";
  private static final GroupIncarnations ANY = GroupIncarnations.withoutIncarnations(g -> true);
  @TempDir Path dir;

  @Test
  void anEmptyReplicaIsFilledByBulkAndEndsEqualWithDeletedDocumentsStayingDeleted() throws Exception {
    try (SyncNode a = new SyncNode(dir, "a", 1); SyncNode b = new SyncNode(dir, "b", 1)) {
      List<PropertyRecord> records = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        long rev = 100 + i;
        records.add(rec("p" + i, rev, i % 10 == 0 ? rev : 0, "value-" + i));
      }
      a.putAll(records);
      // Documents deleted in the sender's commit: an overwritten version, a purged tombstone.
      a.put(rec("updated", 10, 0, "old"), rec("gone", 50, 50, "purged"));
      a.store.checkpoint();
      a.put(rec("updated", 20, 0, "new"));
      a.store.purgeTombstones(60);
      a.store.checkpoint();
      assertThat(deletedDocs(a)).as("the snapshot carries deleted documents").isPositive();

      SessionFigures f = a.syncWith(b, G, 0);

      int docs = a.store.shard(G, 0).numDocs();
      assertThat(docs).isEqualTo(1001);
      assertThat(f.bulk().used()).isTrue();
      assertThat(f.bulk().documents()).isEqualTo(docs);
      assertThat(f.slotsDiffering()).as("the slots the files carried").isPositive();
      assertThat(f.bulk().bytes()).isPositive();
      assertThat(f.repairedToServer()).as("attached documents count as repaired").isEqualTo(docs);
      assertThat(b.store.shard(G, 0).numDocs()).isEqualTo(docs);
      List<String> ids = new ArrayList<>(IntStream.range(0, 1000).mapToObj(i -> "p" + i).toList());
      ids.addAll(List.of("updated", "gone"));
      assertThat(b.snapshot(G, ids)).isEqualTo(a.snapshot(G, ids));
      assertThat(b.get(G, "p10").deleted()).as("tombstones travel").isTrue();
      assertThat(b.get(G, "updated").modRevision()).isEqualTo(20);
      assertThat(b.get(G, "gone")).as("a purged tombstone stays purged").isNull();
      assertThat(countDocs(b, "updated")).isEqualTo(1);
      assertThat(a.trees.ensureCurrent(G, 0, Duration.ofSeconds(30)).root())
          .isEqualTo(b.trees.ensureCurrent(G, 0, Duration.ofSeconds(30)).root());
      assertThat(stagingDir(b)).satisfiesAnyOf(p -> assertThat(p).doesNotExist(), p -> assertThat(p).isEmptyDirectory());
      // Durable without the WAL: the latest commit on disk holds every attached document.
      try (var fs = org.apache.lucene.store.FSDirectory.open(b.store.shard(G, 0).directory());
          var committed = org.apache.lucene.index.DirectoryReader.open(fs)) {
        assertThat(committed.numDocs()).isEqualTo(docs);
      }
    }
  }

  @Test
  void writesToTheReceiverDuringTheTransferAreDecidedAgainAndLeaveOneDocumentPerKey() throws Exception {
    java.util.concurrent.atomic.AtomicReference<SyncNode> receiver = new java.util.concurrent.atomic.AtomicReference<>();
    AtomicBoolean wrote = new AtomicBoolean();
    // At the first file chunk (the offer was accepted, the transfer runs) the receiver takes writes.
    ServerInterceptor writeDuringTransfer = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, io.grpc.Metadata headers,
          ServerCallHandler<Q, R> next) {
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
          @Override
          public void onMessage(Q message) {
            if (message instanceof SessionRequest r && r.hasBulkChunk() && wrote.compareAndSet(false, true)) {
              receiver.get().put(rec("k1", 20, 0, "local newer"), rec("k2", 25, 0, "local older"),
                  rec("k3", 5, 0, "local only"));
            }
            super.onMessage(message);
          }
        };
      }
    };
    try (SyncNode a = new SyncNode(dir, "a", 1);
        SyncNode b = new SyncNode(dir, "b", 1, ANY, CopyFence.NONE, BulkSettings.DEFAULTS, writeDuringTransfer)) {
      receiver.set(b);
      List<PropertyRecord> records = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        records.add(rec("p" + i, 100 + i, 0, "v" + i));
      }
      records.add(rec("k1", 10, 0, "sent older"));
      records.add(rec("k2", 30, 0, "sent newer"));
      a.putAll(records);

      SessionFigures f = a.syncWith(b, G, 0);

      assertThat(wrote).isTrue();
      assertThat(f.bulk().used()).isTrue();
      assertThat(f.bulk().keysResolved()).as("k1 and k2 held two documents").isEqualTo(2);
      assertThat(b.get(G, "k1").modRevision()).isEqualTo(20);
      assertThat(b.get(G, "k2").modRevision()).isEqualTo(30);
      assertThat(b.get(G, "k3")).isNotNull();
      assertThat(f.repairedToClient()).as("the record session after the attach pulled k1 and k3").isEqualTo(2);
      for (String k : List.of("k1", "k2", "k3", "p0", "p499")) {
        assertThat(countDocs(b, k)).as("documents of %s", k).isEqualTo(1);
      }
      assertThat(b.store.shard(G, 0).numDocs()).isEqualTo(503);
      List<String> ids = new ArrayList<>(IntStream.range(0, 500).mapToObj(i -> "p" + i).toList());
      ids.addAll(List.of("k1", "k2", "k3"));
      assertThat(a.snapshot(G, ids)).isEqualTo(b.snapshot(G, ids)).hasSize(503);
      assertThat(a.trees.ensureCurrent(G, 0, Duration.ofSeconds(30)).root())
          .isEqualTo(b.trees.ensureCurrent(G, 0, Duration.ofSeconds(30)).root());
    }
  }

  @Test
  void anEmptyClientPullsTheServersFilesAndWritesDuringThePullAreDecidedAgain() throws Exception {
    java.util.concurrent.atomic.AtomicReference<SyncNode> receiver = new java.util.concurrent.atomic.AtomicReference<>();
    AtomicBoolean wrote = new AtomicBoolean();
    // At the server's first file read, the (empty) client takes writes.
    ServerInterceptor writeDuringPull = new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, io.grpc.Metadata headers,
          ServerCallHandler<Q, R> next) {
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
          @Override
          public void onMessage(Q message) {
            if (message instanceof SessionRequest r && r.hasBulkRead() && wrote.compareAndSet(false, true)) {
              receiver.get().put(rec("k1", 20, 0, "local newer"), rec("k2", 25, 0, "local older"),
                  rec("k3", 5, 0, "local only"));
            }
            super.onMessage(message);
          }
        };
      }
    };
    try (SyncNode a = new SyncNode(dir, "a", 1, ANY, CopyFence.NONE, BulkSettings.DEFAULTS, writeDuringPull);
        SyncNode b = new SyncNode(dir, "b", 1)) {
      receiver.set(b);
      List<PropertyRecord> records = new ArrayList<>();
      for (int i = 0; i < 500; i++) {
        records.add(rec("p" + i, 100 + i, i % 7 == 0 ? 100 + i : 0, "v" + i));
      }
      records.add(rec("k1", 10, 0, "sent older"));
      records.add(rec("k2", 30, 0, "sent newer"));
      a.putAll(records);

      SessionFigures f = b.syncWith(a, G, 0);

      assertThat(wrote).isTrue();
      assertThat(f.bulk().used()).isTrue();
      assertThat(f.bulk().keysResolved()).isEqualTo(2);
      assertThat(f.repairedToClient()).as("attached documents count as pulled").isGreaterThanOrEqualTo(502);
      assertThat(f.repairedToServer()).as("the record session after the attach pushed k1 and k3").isEqualTo(2);
      for (String k : List.of("k1", "k2", "k3", "p0", "p499")) {
        assertThat(countDocs(b, k)).as("documents of %s", k).isEqualTo(1);
      }
      assertThat(b.get(G, "k1").modRevision()).isEqualTo(20);
      assertThat(b.get(G, "k2").modRevision()).isEqualTo(30);
      List<String> ids = new ArrayList<>(IntStream.range(0, 500).mapToObj(i -> "p" + i).toList());
      ids.addAll(List.of("k1", "k2", "k3"));
      assertThat(b.snapshot(G, ids)).isEqualTo(a.snapshot(G, ids)).hasSize(503);
      assertThat(a.trees.ensureCurrent(G, 0, Duration.ofSeconds(30)).root())
          .isEqualTo(b.trees.ensureCurrent(G, 0, Duration.ofSeconds(30)).root());
      assertThat(stagingDir(b)).satisfiesAnyOf(p -> assertThat(p).doesNotExist(), p -> assertThat(p).isEmptyDirectory());
    }
  }

  @Test
  void aReceiverWithBulkOffRefusesAndTheSessionRepairsWithRecords() throws Exception {
    try (SyncNode a = new SyncNode(dir, "a", 1);
        SyncNode b = new SyncNode(dir, "b", 1, ANY, CopyFence.NONE, BulkSettings.OFF)) {
      a.putAll(IntStream.range(0, 100).mapToObj(i -> rec("p" + i, 10 + i, 0, "v")).toList());
      SessionFigures f = a.syncWith(b, G, 0);
      assertThat(f.bulk().used()).isFalse();
      assertThat(f.repairedToServer()).isEqualTo(100);
      assertThat(b.store.shard(G, 0).numDocs()).isEqualTo(100);
      // Nor does it hand its own files to an empty client.
      try (SyncNode c = new SyncNode(dir, "c", 1)) {
        SessionFigures pulled = c.syncWith(b, G, 0);
        assertThat(pulled.bulk().used()).isFalse();
        assertThat(pulled.repairedToClient()).isEqualTo(100);
      }
    }
  }

  @Test
  void theStoreRefusesATransferIntoACopyThatIsNotEmptyOfAnotherIncarnationOrLayout() throws Exception {
    GroupIncarnation mine = GroupIncarnation.random();
    GroupIncarnations groups = new GroupIncarnations() {
      @Override
      public boolean exists(String group) {
        return true;
      }

      @Override
      public Optional<GroupIncarnation> incarnation(String group) {
        return Optional.of(mine);
      }
    };
    List<ShardFiles.FileSpec> files = List.of(new ShardFiles.FileSpec("_0.cfs", 100),
        new ShardFiles.FileSpec("segments_1", 100));
    try (SyncNode b = new SyncNode(dir, "b", 1, groups)) {
      assertThatThrownBy(() -> b.store.beginBulkIntake(G, 0, Optional.of(GroupIncarnation.random()),
          DocumentCodec.LAYOUT, files))
          .isInstanceOf(BulkRefusedException.class).hasMessageContaining("is incarnation " + mine);
      assertThatThrownBy(() -> b.store.beginBulkIntake(G, 0, Optional.of(mine), 1, files))
          .isInstanceOf(BulkRefusedException.class).hasMessageContaining("layout 1");
      assertThatThrownBy(() -> b.store.beginBulkIntake(G, 0, Optional.of(mine), DocumentCodec.LAYOUT,
          List.of(new ShardFiles.FileSpec("../escape", 10))))
          .isInstanceOf(BulkRefusedException.class).hasMessageContaining("not a Lucene index file");
      b.put(rec("there", 10, 0, "x"));
      assertThatThrownBy(() -> b.store.beginBulkIntake(G, 0, Optional.of(mine), DocumentCodec.LAYOUT, files))
          .isInstanceOf(BulkRefusedException.class).hasMessageContaining("not empty (1 document(s))");
    }
  }

  @Test
  void aCorruptFileIsCaughtOnArrivalAndStagedFilesAreDroppedAndClearedAtStart() throws Exception {
    try (SyncNode a = new SyncNode(dir, "a", 1); SyncNode b = new SyncNode(dir, "b", 1)) {
      a.putAll(IntStream.range(0, 50).mapToObj(i -> rec("p" + i, 10 + i, 0, "v")).toList());
      try (ShardFiles files = a.store.bulkSnapshot(G, 0)) {
        BulkIntake intake = b.store.beginBulkIntake(G, 0, Optional.empty(), files.layout(), files.files());
        ShardFiles.FileSpec first = files.files().get(0);
        byte[] bytes = new byte[(int) first.length()];
        try (IndexInput in = files.open(first.name())) {
          in.readBytes(bytes, 0, bytes.length);
        }
        bytes[bytes.length / 2] ^= 0x5a;
        assertThatThrownBy(() -> intake.write(0, 0, bytes)).isInstanceOf(CorruptIndexException.class);
        assertThat(intake.directory()).exists();
        intake.close();
        assertThat(intake.directory()).doesNotExist();
        assertThat(b.store.shard(G, 0).numDocs()).isZero();
      }
    }
    // A crash mid-transfer leaves a staging directory: the next start deletes it.
    Path stale = dir.resolve("b").resolve("data").resolve("bulk-intake").resolve("g.0.left-by-a-crash");
    Files.createDirectories(stale);
    Files.write(stale.resolve("_0.cfs"), new byte[] {1, 2, 3});
    try (SyncNode b = new SyncNode(dir, "b", 1)) {
      assertThat(stale.getParent()).doesNotExist();
    }
  }

  @Test
  void aCommitHoldingAKeyOfAnotherShardIsNotAttached() throws Exception {
    try (SyncNode a = new SyncNode(dir, "a", 1); SyncNode b = new SyncNode(dir, "b", 1)) {
      a.putAll(IntStream.range(0, 20).mapToObj(i -> rec("p" + i, 10 + i, 0, "v")).toList());
      try (ShardFiles files = a.store.bulkSnapshot(G, 0)) {
        BulkIntake intake = b.store.beginBulkIntake(G, 0, Optional.empty(), files.layout(), files.files());
        for (int i = 0; i < files.files().size(); i++) {
          ShardFiles.FileSpec spec = files.files().get(i);
          byte[] bytes = new byte[(int) spec.length()];
          try (IndexInput in = files.open(spec.name())) {
            in.readBytes(bytes, 0, bytes.length);
          }
          intake.write(i, 0, bytes);
        }
        assertThat(intake.complete()).isTrue();
        assertThatThrownBy(() -> b.store.attachBulk(intake, key -> !key.endsWith("/p7")))
            .isInstanceOf(BulkRefusedException.class).hasMessageContaining("g/t/p7, which does not belong");
        assertThat(intake.directory()).doesNotExist();
        assertThat(b.store.shard(G, 0).numDocs()).isZero();
      }
    }
  }

  private static Path stagingDir(SyncNode n) {
    return n.store.shard(G, 0).directory().getParent().getParent().getParent().resolve("bulk-intake");
  }

  private static int deletedDocs(SyncNode n) throws Exception {
    IndexSearcher s = n.store.shard(G, 0).acquireSearcher();
    try {
      return s.getIndexReader().numDeletedDocs();
    } finally {
      n.store.shard(G, 0).release(s);
    }
  }

  private static int countDocs(SyncNode n, String id) throws Exception {
    IndexSearcher s = n.store.shard(G, 0).acquireSearcher();
    try {
      return s.count(new TermQuery(new Term(DocumentCodec.KEY, G + "/t/" + id)));
    } finally {
      n.store.shard(G, 0).release(s);
    }
  }
}
