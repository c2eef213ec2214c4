package dev.arbor.liaison;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.cluster.v1.Key;
import dev.arbor.api.cluster.v1.ReadRequest;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.api.cluster.v1.WriteRequest;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.DataNodes;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.cluster.WriteReply;
import dev.arbor.errors.NotFoundException;
import dev.arbor.errors.ResourceExhaustedException;
import dev.arbor.errors.UnavailableException;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardWrite;
import io.grpc.ForwardingServerCallListener;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The liaison's per-node batching of Writes and Reads ({@link BatchLane} via {@link ReplicaCalls})
 * against a real data node (real store, real gRPC on loopback). Coalescing is made certain, not
 * hoped for: the node holds the first call until the others have queued behind it (an interceptor
 * in front of the real service; no real fault holds a call on demand).
 */
class ReplicaBatchingTest {
  private static final String G = "g";
  private static final int SHARDS = 4;

  @TempDir Path dir;
  private LoopbackDataNode dataNode;
  private PropertyStore store;
  private DataNode node;
  private final Recorder recorder = new Recorder();
  private final List<AutoCloseable> closing = new ArrayList<>();
  private final ExecutorService callers = Executors.newCachedThreadPool();

  /** Records each call's size; while {@code hold} is set, calls wait for it before the service sees them. */
  private static final class Recorder implements ServerInterceptor {
    final List<Integer> writeSizes = new CopyOnWriteArrayList<>();
    final List<Integer> readSizes = new CopyOnWriteArrayList<>();
    volatile CountDownLatch hold;

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, io.grpc.Metadata headers, ServerCallHandler<Q, R> next) {
      CountDownLatch held = hold;
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
        @Override
        public void onMessage(Q message) {
          if (message instanceof WriteRequest w) {
            writeSizes.add(w.getPropertiesCount());
          } else if (message instanceof ReadRequest r) {
            readSizes.add(r.getKeysCount());
          }
          super.onMessage(message);
        }

        @Override
        public void onHalfClose() {
          if (held != null) {
            try {
              held.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          super.onHalfClose();
        }
      };
    }
  }

  @BeforeEach
  void start() throws Exception {
    dataNode = LoopbackDataNode.start(dir, G, SHARDS, recorder);
    store = dataNode.store;
    node = dataNode.node;
  }

  @AfterEach
  void stop() throws Exception {
    CountDownLatch held = recorder.hold;
    if (held != null) {
      held.countDown();
    }
    callers.shutdownNow();
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
    dataNode.close();
  }

  private ReplicaCalls calls(Duration timeout, ReplicaCallLimits limits) {
    DataNodes nodes = new DataNodes(timeout);
    nodes.update(List.of(node));
    closing.add(nodes);
    ReplicaCalls calls = new ReplicaCalls(nodes, limits);
    closing.add(calls);
    return calls;
  }

  private static PropertyRecord record(String id, long rev) {
    return LoopbackDataNode.record(G, id, rev);
  }

  private static StoredProperty proto(PropertyRecord r) {
    return LoopbackDataNode.proto(G, SHARDS, r);
  }

  private static Key key(String group, String id) {
    EntityKey k = new EntityKey(group, "n", id);
    return Key.newBuilder().setGroup(group).setShard(ShardRouter.shardOf(k, SHARDS)).setEntity(k.entity()).build();
  }

  /** Sends one call and waits until the node holds it: later callers to the node queue behind it. */
  private Future<List<ReplicaCalls.Answer<WriteReply>>> holdOneWrite(ReplicaCalls calls) {
    recorder.hold = new CountDownLatch(1);
    Future<List<ReplicaCalls.Answer<WriteReply>>> first =
        callers.submit(() -> calls.write(List.of(node), List.of(proto(record("first", 10))), true));
    await().atMost(Duration.ofSeconds(10)).until(() -> recorder.writeSizes.size() == 1);
    return first;
  }

  private Future<ReplicaCalls.Answer<WriteReply>> writeLater(ReplicaCalls calls, StoredProperty... records) {
    return callers.submit(() -> calls.write(List.of(node), List.of(records), true).get(0));
  }

  private static ReplicaCalls.Answer<WriteReply> okAnswer(Future<List<ReplicaCalls.Answer<WriteReply>>> f)
      throws Exception {
    ReplicaCalls.Answer<WriteReply> a = f.get(20, TimeUnit.SECONDS).get(0);
    assertThat(a.ok()).as("answer %s", a.failure()).isTrue();
    return a;
  }

  @Test
  void concurrentWritesTravelInOneCallAndEachCallerGetsTheOutcomesOfItsOwnRecords() throws Exception {
    ReplicaCalls calls = calls(Duration.ofSeconds(20), ReplicaCallLimits.DEFAULTS);
    // The node already holds a newer version of "taken": a write below it must not be acknowledged.
    PropertyRecord newer = record("taken", 50);
    store.applyIfNewer(List.of(new ShardWrite(G, ShardRouter.shardOf(newer.key(), SHARDS), newer)));
    var first = holdOneWrite(calls);

    var stored = writeLater(calls, proto(record("a", 10)), proto(record("b", 10)));
    var older = writeLater(calls, proto(record("taken", 20)));
    StoredProperty badHash = proto(record("bad", 10)).toBuilder().setSha(ByteString.copyFrom(new byte[64])).build();
    var rejected = writeLater(calls, proto(record("c", 10)), badHash);
    await().atMost(Duration.ofSeconds(10)).until(() -> calls.pending() == 4);
    recorder.hold.countDown();

    assertThat(okAnswer(first).value().outcomes()).containsExactly(WriteOutcome.WRITE_OUTCOME_STORED);
    WriteReply s = stored.get(20, TimeUnit.SECONDS).value();
    assertThat(s.outcomes()).containsExactly(WriteOutcome.WRITE_OUTCOME_STORED, WriteOutcome.WRITE_OUTCOME_STORED);
    assertThat(s.holdsAll()).isTrue();
    assertThat(s.rejection()).isEmpty();
    WriteReply o = older.get(20, TimeUnit.SECONDS).value();
    assertThat(o.outcomes()).containsExactly(WriteOutcome.WRITE_OUTCOME_NOT_STORED_NEWER);
    assertThat(o.heldNewer()).isTrue();
    WriteReply r = rejected.get(20, TimeUnit.SECONDS).value();
    assertThat(r.outcomes()).containsExactly(WriteOutcome.WRITE_OUTCOME_STORED, WriteOutcome.WRITE_OUTCOME_REJECTED);
    // Counted within the caller's own records (it was the fifth of the call).
    assertThat(r.rejection()).startsWith("properties[1].sha");
    assertThat(recorder.writeSizes).as("one call for the three callers queued behind the first").containsExactly(1, 5);
    assertThat(calls.batchCalls()).isEqualTo(2);
    assertThat(calls.batchCallers()).isEqualTo(4);
    for (String id : List.of("first", "a", "b", "c")) {
      EntityKey k = new EntityKey(G, "n", id);
      assertThat(store.latest(G, ShardRouter.shardOf(k, SHARDS), k)).as(id).isNotNull();
    }
    EntityKey taken = new EntityKey(G, "n", "taken");
    assertThat(store.latest(G, ShardRouter.shardOf(taken, SHARDS), taken).modRevision()).isEqualTo(50);
    assertThat(calls.pending()).isZero();
  }

  @Test
  void concurrentReadsTravelInOneReadAndEachCallerGetsOnlyItsOwnKeys() throws Exception {
    ReplicaCalls calls = calls(Duration.ofSeconds(20), ReplicaCallLimits.DEFAULTS);
    for (String id : List.of("x", "y", "z")) {
      PropertyRecord r = record(id, 10);
      store.applyIfNewer(List.of(new ShardWrite(G, ShardRouter.shardOf(r.key(), SHARDS), r)));
    }
    recorder.hold = new CountDownLatch(1);
    var first = callers.submit(() -> calls.read(List.of(node), List.of(key(G, "x"))).get(0));
    await().atMost(Duration.ofSeconds(10)).until(() -> recorder.readSizes.size() == 1);
    var xy = callers.submit(() -> calls.read(List.of(node), List.of(key(G, "x"), key(G, "y"))).get(0));
    var z = callers.submit(() -> calls.read(List.of(node), List.of(key(G, "z"))).get(0));
    var missing = callers.submit(() -> calls.read(List.of(node), List.of(key(G, "missing"))).get(0));
    await().atMost(Duration.ofSeconds(10)).until(() -> calls.pending() == 4);
    recorder.hold.countDown();

    assertThat(first.get(20, TimeUnit.SECONDS).value()).extracting(StoredProperty::getEntity).containsExactly("g/n/x");
    assertThat(xy.get(20, TimeUnit.SECONDS).value()).extracting(StoredProperty::getEntity)
        .containsExactlyInAnyOrder("g/n/x", "g/n/y");
    assertThat(z.get(20, TimeUnit.SECONDS).value()).extracting(StoredProperty::getEntity).containsExactly("g/n/z");
    assertThat(missing.get(20, TimeUnit.SECONDS).value()).isEmpty();
    // x asked twice in the second call goes once.
    assertThat(recorder.readSizes).containsExactly(1, 4);
  }

  @Test
  void aVersionOnlyReadCarriesNoBytesUnlessAnotherCallerInItsBatchNeedsThem() throws Exception {
    ReplicaCalls calls = calls(Duration.ofSeconds(20), ReplicaCallLimits.DEFAULTS);
    PropertyRecord x = record("x", 10);
    PropertyRecord y = record("y", 12);
    for (PropertyRecord r : List.of(x, y)) {
      store.applyIfNewer(List.of(new ShardWrite(G, ShardRouter.shardOf(r.key(), SHARDS), r)));
    }
    Key yVersion = key(G, "y").toBuilder().setVersionOnly(true).build();
    StoredProperty alone = calls.read(List.of(node), List.of(yVersion)).get(0).value().get(0);
    assertThat(alone.getSource().isEmpty()).as("no bytes").isTrue();
    assertThat(alone.getModRevision()).isEqualTo(12);
    assertThat(alone.getSha().toByteArray()).isEqualTo(y.sha());
    PropertyRecord version = StoredProperties.versionOf(alone, "read");
    assertThat(version.modRevision()).isEqualTo(12);
    assertThat(version.deleted()).isFalse();

    recorder.hold = new CountDownLatch(1);
    var first = callers.submit(() -> calls.read(List.of(node), List.of(key(G, "y"))).get(0));
    await().atMost(Duration.ofSeconds(10)).until(() -> recorder.readSizes.size() == 2);
    Key xVersion = key(G, "x").toBuilder().setVersionOnly(true).build();
    var xv = callers.submit(() -> calls.read(List.of(node), List.of(xVersion)).get(0));
    var xWhole = callers.submit(() -> calls.read(List.of(node), List.of(key(G, "x"))).get(0));
    var yv = callers.submit(() -> calls.read(List.of(node), List.of(yVersion)).get(0));
    await().atMost(Duration.ofSeconds(10)).until(() -> calls.pending() == 4);
    recorder.hold.countDown();

    assertThat(first.get(20, TimeUnit.SECONDS).ok()).isTrue();
    assertThat(xWhole.get(20, TimeUnit.SECONDS).value()).singleElement()
        .satisfies(p -> assertThat(p.getSource().toByteArray()).isEqualTo(x.source()));
    // x is asked whole once for both of its callers; y version-only.
    assertThat(xv.get(20, TimeUnit.SECONDS).value()).singleElement()
        .satisfies(p -> assertThat(p.getModRevision()).isEqualTo(10));
    assertThat(yv.get(20, TimeUnit.SECONDS).value()).singleElement()
        .satisfies(p -> assertThat(p.getSource().isEmpty()).isTrue());
    assertThat(recorder.readSizes).containsExactly(1, 1, 2);
  }

  @Test
  void aReadRefusedForOneCallersKeyIsRetriedAloneForTheOthers() throws Exception {
    ReplicaCalls calls = calls(Duration.ofSeconds(20), ReplicaCallLimits.DEFAULTS);
    PropertyRecord x = record("x", 10);
    store.applyIfNewer(List.of(new ShardWrite(G, ShardRouter.shardOf(x.key(), SHARDS), x)));
    recorder.hold = new CountDownLatch(1);
    var first = callers.submit(() -> calls.read(List.of(node), List.of(key(G, "x"))).get(0));
    await().atMost(Duration.ofSeconds(10)).until(() -> recorder.readSizes.size() == 1);
    var good = callers.submit(() -> calls.read(List.of(node), List.of(key(G, "x"))).get(0));
    // A group the node has not heard of: it refuses the whole Read NOT_FOUND.
    var unknown = callers.submit(() -> calls.read(List.of(node), List.of(key("other", "x"))));
    await().atMost(Duration.ofSeconds(10)).until(() -> calls.pending() == 3);
    recorder.hold.countDown();

    assertThat(first.get(20, TimeUnit.SECONDS).ok()).isTrue();
    assertThat(good.get(20, TimeUnit.SECONDS).value()).extracting(StoredProperty::getEntity).containsExactly("g/n/x");
    assertThatThrownBy(() -> unknown.get(20, TimeUnit.SECONDS)).hasCauseInstanceOf(NotFoundException.class)
        .hasMessageContaining("other");
    assertThat(recorder.readSizes).as("the shared Read, then each caller alone").containsExactly(1, 2, 1, 1);
  }

  @Test
  void aBatchHoldsAtMostTheRecordBound() throws Exception {
    ReplicaCalls calls = calls(Duration.ofSeconds(20),
        new ReplicaCallLimits(8, 64, 2, ReplicaCallLimits.DEFAULT_BATCH_BYTES, Duration.ZERO));
    var first = holdOneWrite(calls);
    List<Future<ReplicaCalls.Answer<WriteReply>>> later = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      later.add(writeLater(calls, proto(record("k" + i, 10))));
      final int queued = i + 2;
      // One at a time, so the order in the lane (and so the batches) is known.
      await().atMost(Duration.ofSeconds(10)).until(() -> calls.pending() == queued);
    }
    recorder.hold.countDown();
    okAnswer(first);
    for (var f : later) {
      assertThat(f.get(20, TimeUnit.SECONDS).value().outcomes()).containsExactly(WriteOutcome.WRITE_OUTCOME_STORED);
    }
    assertThat(recorder.writeSizes).containsExactly(1, 2, 2, 1);
  }

  @Test
  void callersWaitingInABatchCountAgainstTheFanOutBoundAndTheNextIsRefused() throws Exception {
    ReplicaCalls calls = calls(Duration.ofSeconds(20), new ReplicaCallLimits(1, 2));
    var first = holdOneWrite(calls);
    var second = writeLater(calls, proto(record("a", 10)));
    var third = writeLater(calls, proto(record("b", 10)));
    await().atMost(Duration.ofSeconds(10)).until(() -> calls.pending() == 3);

    assertThatThrownBy(() -> calls.write(List.of(node), List.of(proto(record("c", 10))), true))
        .isInstanceOf(ResourceExhaustedException.class)
        .hasMessageContaining("--replica-call-threads").hasMessageContaining("--replica-call-queue");
    assertThatThrownBy(() -> calls.read(List.of(node), List.of(key(G, "a"))))
        .isInstanceOf(ResourceExhaustedException.class);
    assertThat(calls.refused()).isEqualTo(2);
    assertThat(calls.pending()).as("nothing queued beyond the bound").isEqualTo(3);

    recorder.hold.countDown();
    okAnswer(first);
    assertThat(second.get(20, TimeUnit.SECONDS).ok()).isTrue();
    assertThat(third.get(20, TimeUnit.SECONDS).ok()).isTrue();
    assertThat(recorder.writeSizes).containsExactly(1, 2);
    assertThat(calls.pending()).isZero();
  }

  @Test
  void aFailedCallFailsEachOfItsCallersNamingTheNode() throws Exception {
    ReplicaCalls calls = calls(Duration.ofSeconds(20), ReplicaCallLimits.DEFAULTS);
    var first = holdOneWrite(calls);
    var a = writeLater(calls, proto(record("a", 10)));
    var b = writeLater(calls, proto(record("b", 10)));
    await().atMost(Duration.ofSeconds(10)).until(() -> calls.pending() == 3);
    // The node goes away with the first call in flight; the batch queued behind it finds it gone.
    dataNode.server.shutdownNow();
    recorder.hold.countDown();
    dataNode.server.awaitTermination(10, TimeUnit.SECONDS);

    for (var f : List.of(first.get(20, TimeUnit.SECONDS).get(0), a.get(20, TimeUnit.SECONDS),
        b.get(20, TimeUnit.SECONDS))) {
      assertThat(f.ok()).isFalse();
      assertThat(f.failure()).isInstanceOf(UnavailableException.class).hasMessageContaining("d1");
    }
    assertThat(calls.pending()).isZero();
  }

  @Test
  void aCallerWhoseDeadlinePassesWhileItsBatchLingersIsNotSent() throws Exception {
    // The linger (1 s) outlasts the deadline (200 ms) and the batch never fills: the caller's
    // deadline passes before the batch is sent, whatever the machine's speed.
    ReplicaCalls calls = calls(Duration.ofMillis(200),
        new ReplicaCallLimits(8, 64, 100, ReplicaCallLimits.DEFAULT_BATCH_BYTES, Duration.ofSeconds(1)));
    ReplicaCalls.Answer<WriteReply> a = calls.write(List.of(node), List.of(proto(record("late", 10))), true).get(0);

    // The caller stops waiting at its deadline; the lane then drops the write unsent.
    assertThat(a.ok()).isFalse();
    assertThat(a.failure()).isInstanceOf(UnavailableException.class).hasMessageContaining("did not answer within")
        .hasMessageContaining("d1");
    await().atMost(Duration.ofSeconds(10)).until(() -> calls.expired() == 1 && calls.pending() == 0);
    assertThat(recorder.writeSizes).as("nothing reached the node").isEmpty();
  }
}
