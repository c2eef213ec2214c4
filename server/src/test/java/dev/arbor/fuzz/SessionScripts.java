package dev.arbor.fuzz;

import com.google.protobuf.ByteString;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.repair.v1.BucketRequest;
import dev.arbor.api.repair.v1.Finish;
import dev.arbor.api.repair.v1.LeafRequest;
import dev.arbor.api.repair.v1.PropertyExchange;
import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.TraceContext;
import dev.arbor.api.repair.v1.TreeRoot;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.observability.trace.Tracer;
import dev.arbor.property.ContentHash;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.PropertyRecord;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * Builds one fuzz input for the repair session stream: a valid script for a random shard (tree
 * root, bucket, leaf and exchange steps, finish) whose pushes mix fresh valid records, losing
 * versions of the reference keys, far-future and misrouted records; then mutates fields of some
 * messages (structured or raw), the sequence (steps dropped, repeated, swapped, moved, an early
 * finish, a second root, an empty request, a cut), the targeted group and shard, and how the client
 * ends. Pushes that would legitimately beat a reference key are taken out again.
 */
final class SessionScripts {
  static final int SLOTS = 32;
  private static final int FRESH_PER_SHARD = 64;
  private static final String[] OTHER_GROUPS = {"nope", "", "FZ", "fz ", "fz/0", "fz\0"};

  /** One input. {@code dropped} counts pushes taken out because they would rightly win over reference data. */
  record Input(List<SessionRequest> script, SessionCall.End end, int dropped) {}

  private final Mutator m;
  private final ProtoMutator pm;
  private final Random rnd;
  private final Reference reference;
  private final GroupIncarnation incarnation;
  private long serial;

  SessionScripts(Mutator m, Reference reference, GroupIncarnation incarnation) {
    this.m = m;
    this.pm = new ProtoMutator(m);
    this.rnd = m.random();
    this.reference = reference;
    this.incarnation = incarnation;
  }

  Input next() {
    int shard = rnd.nextInt(RepairFuzzNode.SHARDS);
    List<SessionRequest> script = base(shard);
    int mutated = rnd.nextInt(4);
    for (int k = 0; k < mutated && !script.isEmpty(); k++) {
      int at = rnd.nextInt(script.size());
      script.set(at, pm.either(script.get(at), script.get(rnd.nextInt(script.size()))));
    }
    if (rnd.nextInt(3) == 0) {
      reorder(script);
    }
    if (rnd.nextInt(7) == 0) {
      retarget(script);
    }
    if (rnd.nextBoolean()) {
      fixHashes(script);
    }
    int dropped = dropReferenceWinners(script);
    int e = rnd.nextInt(100);
    SessionCall.End end = e < 88 ? SessionCall.End.HALF_CLOSE : e < 98 ? SessionCall.End.CANCEL
        : SessionCall.End.ABANDON;
    return new Input(script, end, dropped);
  }

  private List<SessionRequest> base(int shard) {
    List<SessionRequest> s = new ArrayList<>();
    byte[] root = new byte[rnd.nextBoolean() ? 64 : 0];
    rnd.nextBytes(root);
    s.add(SessionRequest.newBuilder().setTreeRoot(TreeRoot.newBuilder().setGroup(RepairFuzzNode.G).setShard(shard)
        .setRoot(ByteString.copyFrom(root)).setSlotCount(SLOTS).setLeafCount(rnd.nextInt(100)).setTreeFormat(dev.arbor.repair.tree.TreeFileReader.CURRENT_FORMAT)
        .setTrace(TraceContext.newBuilder().setTraceId("fuzz-" + serial++).setParentSpanId("p"))
        .setClientNode("fuzz")
        .setGroupIncarnation(rnd.nextInt(10) < 7 ? ByteString.copyFrom(incarnation.toBytes()) : ByteString.EMPTY))
        .build());
    int steps = 1 + rnd.nextInt(5);
    for (int k = 0; k < steps; k++) {
      s.add(switch (rnd.nextInt(3)) {
        case 0 -> SessionRequest.newBuilder().setBuckets(BucketRequest.newBuilder().setSlot(rnd.nextInt(SLOTS))
            .setBucketCount(m.pick(new Integer[] {1, 2, 4, 64, 4096}))).build();
        case 1 -> SessionRequest.newBuilder().setLeaves(leaves(shard)).build();
        default -> SessionRequest.newBuilder().setExchange(exchange(shard)).build();
      });
    }
    if (rnd.nextInt(10) != 0) {
      s.add(SessionRequest.newBuilder().setFinish(Finish.getDefaultInstance()).build());
    }
    return s;
  }

  private LeafRequest leaves(int shard) {
    int n = m.pick(new Integer[] {1, 2, 8, 64});
    LeafRequest.Builder b = LeafRequest.newBuilder().setSlot(rnd.nextInt(SLOTS)).setBucketCount(n)
        .setMaxItems(m.pick(new Integer[] {0, 1, 2, 1024})).setRecords(rnd.nextBoolean());
    for (int k = rnd.nextInt(3); k > 0; k--) {
      b.addBuckets(rnd.nextInt(n));
    }
    if (rnd.nextBoolean()) {
      List<PropertyRecord> refs = reference.inShard(shard);
      b.setAfter(ByteString.copyFrom(refs.get(rnd.nextInt(refs.size())).key().entityUtf8()));
    }
    return b.build();
  }

  private PropertyExchange exchange(int shard) {
    PropertyExchange.Builder b = PropertyExchange.newBuilder();
    for (int k = rnd.nextInt(5); k > 0; k--) {
      b.addPush(push(shard));
    }
    List<PropertyRecord> refs = reference.inShard(shard);
    for (int k = rnd.nextInt(4); k > 0; k--) {
      b.addFetch(switch (rnd.nextInt(3)) {
        case 0 -> refs.get(rnd.nextInt(refs.size())).key().entity();
        case 1 -> RepairFuzzNode.key(fresh(shard)).entity();
        default -> m.string(RepairFuzzNode.G + "/" + RepairFuzzNode.NAME + "/x");
      });
    }
    return b.build();
  }

  private StoredProperty push(int shard) {
    long now = Tracer.nowNanos();
    PropertyRecord r;
    int target = shard;
    switch (rnd.nextInt(6)) {
      case 0, 1 -> r = RepairFuzzNode.live(fresh(shard), now - 30_000_000_000L, rnd.nextInt(100));
      case 2 -> {
        List<PropertyRecord> refs = reference.inShard(shard);
        r = Reference.loser(refs.get(rnd.nextInt(refs.size())), rnd);
      }
      case 3 -> { // ahead of the node's clock by more than the skew it accepts: refused, never stored
        long ahead = m.pick(new Long[] {now + 86_400_000_000_000L, Long.MAX_VALUE, Long.MAX_VALUE - 1,
            now + RepairFuzzNode.MAX_CLOCK_SKEW.toNanos() + 5_000_000_000L});
        r = RepairFuzzNode.live(fresh(shard), ahead, 5);
        if (rnd.nextBoolean()) {
          r = r.tombstone(ahead);
        }
      }
      case 4 -> { // routes to another shard
        target = (shard + 1 + rnd.nextInt(RepairFuzzNode.SHARDS - 1)) % RepairFuzzNode.SHARDS;
        r = RepairFuzzNode.live(fresh(target), now - 1_000_000_000L, 3);
      }
      default -> r = RepairFuzzNode.live(fresh(shard), now - 1_000_000_000L, 4).tombstone(now - 500_000_000L);
    }
    Optional<GroupIncarnation> inc = rnd.nextBoolean() ? Optional.of(incarnation) : Optional.empty();
    return StoredProperties.toProto(RepairFuzzNode.G, shard, r, inc);
  }

  /** One of a bounded set of ids per shard, so the shards stay small however long the campaign. */
  private String fresh(int shard) {
    return RepairFuzzNode.idIn("f" + rnd.nextInt(FRESH_PER_SHARD) + "_", shard);
  }

  private void reorder(List<SessionRequest> s) {
    if (s.isEmpty()) {
      return;
    }
    int a = rnd.nextInt(s.size());
    int b = rnd.nextInt(s.size());
    switch (rnd.nextInt(8)) {
      case 0 -> s.remove(a);
      case 1 -> s.add(b, s.get(a));
      case 2 -> Collections.swap(s, a, b);
      case 3 -> s.add(b, SessionRequest.newBuilder().setFinish(Finish.getDefaultInstance()).build());
      case 4 -> s.add(b, SessionRequest.getDefaultInstance());
      case 5 -> s.add(s.remove(0)); // the root last: every step before it is out of order
      case 6 -> Collections.shuffle(s, rnd);
      default -> s.subList(a, s.size()).clear(); // cut: the client stops mid-session
    }
  }

  /** Aims the session at a group or shard that does not exist here. */
  private void retarget(List<SessionRequest> s) {
    for (int k = 0; k < s.size(); k++) {
      if (s.get(k).hasTreeRoot()) {
        TreeRoot.Builder t = s.get(k).getTreeRoot().toBuilder();
        switch (rnd.nextInt(4)) {
          case 0 -> t.setGroup(m.pick(OTHER_GROUPS));
          case 1 -> t.setGroup(m.string(RepairFuzzNode.G));
          case 2 -> t.setShard(RepairFuzzNode.SHARDS + rnd.nextInt(3));
          default -> t.setShard(m.boundaryInt());
        }
        s.set(k, SessionRequest.newBuilder().setTreeRoot(t).build());
        return;
      }
    }
  }

  /** Recomputes the pushed records' hashes, so mutated records reach the checks behind the hash. */
  private static void fixHashes(List<SessionRequest> s) {
    for (int k = 0; k < s.size(); k++) {
      if (!s.get(k).hasExchange()) {
        continue;
      }
      PropertyExchange.Builder x = s.get(k).getExchange().toBuilder();
      for (int j = 0; j < x.getPushCount(); j++) {
        StoredProperty p = x.getPush(j);
        x.setPush(j, p.toBuilder().setSha(ByteString.copyFrom(
            ContentHash.of(p.getSource().toByteArray(), p.getDeleteTime()))));
      }
      s.set(k, SessionRequest.newBuilder().setExchange(x).build());
    }
  }

  private int dropReferenceWinners(List<SessionRequest> s) {
    int dropped = 0;
    for (int k = 0; k < s.size(); k++) {
      if (!s.get(k).hasExchange()) {
        continue;
      }
      PropertyExchange x = s.get(k).getExchange();
      List<StoredProperty> kept = x.getPushList().stream().filter(p -> !reference.beatenBy(p)).toList();
      if (kept.size() != x.getPushCount()) {
        dropped += x.getPushCount() - kept.size();
        s.set(k, SessionRequest.newBuilder().setExchange(x.toBuilder().clearPush().addAllPush(kept)).build());
      }
    }
    return dropped;
  }

  /** Whether the script's root claims a well-formed incarnation other than the group's (a 2 s metadata wait). */
  boolean claimsOtherIncarnation(List<SessionRequest> s) {
    // Only the first tree_root opens the session; a later one is refused as sent twice, whatever it claims.
    return s.stream().filter(SessionRequest::hasTreeRoot).findFirst().map(r -> r.getTreeRoot().getGroupIncarnation())
        .filter(b -> b.size() == GroupIncarnation.BYTES && !Arrays.equals(b.toByteArray(), incarnation.toBytes()))
        .isPresent();
  }

  /** The script with every such claim replaced by the group's own incarnation. */
  List<SessionRequest> ownIncarnation(List<SessionRequest> s) {
    List<SessionRequest> out = new ArrayList<>(s.size());
    for (SessionRequest r : s) {
      if (r.hasTreeRoot() && r.getTreeRoot().getGroupIncarnation().size() == GroupIncarnation.BYTES) {
        r = SessionRequest.newBuilder().setTreeRoot(r.getTreeRoot().toBuilder()
            .setGroupIncarnation(ByteString.copyFrom(incarnation.toBytes()))).build();
      }
      out.add(r);
    }
    return out;
  }
}
