package dev.arbor.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.repair.v1.LeafPage;
import dev.arbor.api.repair.v1.LeafRequest;
import dev.arbor.api.repair.v1.PropertyExchange;
import dev.arbor.api.repair.v1.PropertyExchangeReply;
import dev.arbor.api.repair.v1.RootCompare;
import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SessionResponse;
import dev.arbor.api.repair.v1.TreeRoot;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.errors.ArborException;
import dev.arbor.observability.trace.Tracer;
import dev.arbor.property.EntityKey;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.PropertyRecord;
import io.grpc.Status;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * What every answered session must satisfy: a status a client can act on (never INTERNAL, UNKNOWN
 * or a timeout, and a reason with every refusal), one response per request in order and of the
 * matching kind up to the end, nothing served from a shard the session was not opened on, pages
 * that make progress, and no more pushes stored than could be valid.
 */
final class SessionOracle {
  static final Set<Status.Code> ALLOWED = EnumSet.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT,
      Status.Code.NOT_FOUND, Status.Code.FAILED_PRECONDITION, Status.Code.RESOURCE_EXHAUSTED,
      Status.Code.OUT_OF_RANGE, Status.Code.ABORTED);

  private final GroupIncarnation incarnation;

  SessionOracle(GroupIncarnation incarnation) {
    this.incarnation = incarnation;
  }

  void check(List<SessionRequest> script, SessionCall.Result r, String input) {
    Status st = r.status();
    assertThat(st.getCode()).as("status %s (%s) for %s", st.getCode(), st.getDescription(), input).isIn(ALLOWED);
    if (!st.isOk()) {
      assertThat(st.getDescription()).as("a refusal says why: %s", input).isNotBlank();
    }
    List<SessionResponse> resp = r.responses();
    int untilFinish = firstFinish(script);
    assertThat(resp.size()).as("responses (at most one per request up to finish) for %s", input)
        .isLessThanOrEqualTo(untilFinish);
    if (st.isOk()) {
      assertThat(resp.size()).as("a normal end answered every request up to finish: %s", input)
          .isEqualTo(untilFinish);
    }
    String group = null;
    int shard = -1;
    boolean open = false;
    long stored = 0;
    for (int i = 0; i < resp.size(); i++) {
      SessionRequest q = script.get(i);
      SessionResponse a = resp.get(i);
      String at = "response " + i + " of " + input;
      assertThat(a.getBodyCase().getNumber()).as("kind of %s", at).isEqualTo(q.getBodyCase().getNumber());
      switch (q.getBodyCase()) {
        case TREE_ROOT -> {
          assertThat(group).as("a second tree_root is refused, not answered: %s", at).isNull();
          TreeRoot t = q.getTreeRoot();
          group = t.getGroup();
          shard = t.getShard();
          open = rootCompare(t, a.getRootCompare(), at);
        }
        case BUCKETS -> {
          assertThat(open).as("buckets answered only with a tree open: %s", at).isTrue();
          assertThat(a.getBuckets().getDigests().size()).as(at)
              .isEqualTo(q.getBuckets().getBucketCount() * 8);
        }
        case LEAVES -> {
          assertThat(open).as("leaves answered only with a tree open: %s", at).isTrue();
          page(q.getLeaves(), a.getLeaves(), group, shard, at);
        }
        case EXCHANGE -> {
          assertThat(open).as("exchange answered only with a tree open: %s", at).isTrue();
          stored += exchange(q.getExchange(), a.getExchange(), group, shard, at);
        }
        case FINISH -> assertThat(a.getFinish().getStored()).as("finish counts what was stored: %s", at)
            .isEqualTo(stored);
        case BULK_OFFER -> {
          // Every shard of the fuzzed group holds reference data: an offer must never be taken
          // (attaching files to a non-empty copy would add documents beside its own).
          assertThat(a.getBulkOffer().getAccepted()).as("bulk offer into a non-empty copy refused: %s", at).isFalse();
          assertThat(a.getBulkOffer().getReason()).as("why the offer was refused: %s", at).isNotBlank();
        }
        case BULK_CHUNK, BULK_ATTACH -> throw new AssertionError(
            "answered a bulk step although no offer can be accepted here: " + at);
        case BULK_PULL -> {
          if (!a.getBulkManifest().getAvailable()) {
            assertThat(a.getBulkManifest().getReason()).as("why no manifest: %s", at).isNotBlank();
          }
        }
        case BULK_READ -> {
          // Bytes of a held commit's file: answered only after a manifest was given.
        }
        default -> throw new AssertionError("answered a request without a body: " + at);
      }
    }
  }

  private static int firstFinish(List<SessionRequest> s) {
    for (int i = 0; i < s.size(); i++) {
      if (s.get(i).hasFinish()) {
        return i + 1;
      }
    }
    return s.size();
  }

  private boolean rootCompare(TreeRoot t, RootCompare c, String at) {
    boolean exists = t.getGroup().equals(RepairFuzzNode.G) && t.getShard() >= 0 && t.getShard() < RepairFuzzNode.SHARDS;
    if (!exists) {
      assertThat(c.getTreeFound()).as("no tree for an unknown group or shard: %s", at).isFalse();
    }
    if (!c.getTreeFound()) {
      assertThat(c.getReason()).as("why no tree: %s", at).isNotBlank();
      return false;
    }
    assertThat(c.getGroupIncarnation().toByteArray()).as(at).isEqualTo(incarnation.toBytes());
    assertThat(c.getSlotsCount()).as("slot table: %s", at).isIn(0, c.getSlotCount());
    c.getSlotsList().forEach(s -> assertThat(s.getHash().size()).as(at).isEqualTo(64));
    return true;
  }

  private static void page(LeafRequest q, LeafPage p, String group, int shard, String at) {
    p.getLeavesList().forEach(l -> inShard(EntityKey.parse(l.getEntity().toStringUtf8()), group, shard, at));
    p.getRecordsList().forEach(r -> served(r, group, shard, at));
    if (p.getMore()) {
      // A page that says "more" must move past where it started, or a client pages forever.
      ByteString last = p.getLastEntity();
      assertThat(last.isEmpty() || Arrays.compareUnsigned(last.toByteArray(), q.getAfter().toByteArray()) <= 0)
          .as("a page with more=true moved on (last_entity %s, after %s): %s", last.toStringUtf8(),
              q.getAfter().toStringUtf8(), at).isFalse();
    }
  }

  private static long exchange(PropertyExchange q, PropertyExchangeReply a, String group, int shard, String at) {
    long possible = q.getPushList().stream().filter(p -> mayBeValid(p, group, shard)).count();
    assertThat((long) a.getStored()).as("stored pushes (at most the %d that may be valid): %s", possible, at)
        .isLessThanOrEqualTo(possible);
    assertThat((long) a.getStored() + a.getRejected()).as(at).isLessThanOrEqualTo(q.getPushCount());
    assertThat(a.getRejectedReasonsCount() > 0).as("rejections come with reasons: %s", at)
        .isEqualTo(a.getRejected() > 0);
    a.getFetchedList().forEach(r -> served(r, group, shard, at));
    a.getNewerList().forEach(r -> served(r, group, shard, at));
    return a.getStored();
  }

  /** A push the node may store: labelled with the session's shard, decodable, routed there, within the clock bound. */
  private static boolean mayBeValid(StoredProperty p, String group, int shard) {
    if (!p.getGroup().equals(group) || p.getShard() != shard) {
      return false;
    }
    PropertyRecord r;
    try {
      r = StoredProperties.fromProto(p, "push").record();
    } catch (ArborException | IllegalArgumentException e) {
      return false;
    }
    long bound = Tracer.nowNanos() + RepairFuzzNode.MAX_CLOCK_SKEW.toNanos();
    return RepairFuzzNode.shardOf(r.key()) == shard && r.modRevision() <= bound && r.deleteTime() <= bound;
  }

  /** A record the node sent must be of the session's shard and intact. */
  static void served(StoredProperty p, String group, int shard, String at) {
    assertThat(p.getGroup()).as(at).isEqualTo(group);
    assertThat(p.getShard()).as(at).isEqualTo(shard);
    PropertyRecord r = StoredProperties.fromProto(p, "served").record();
    inShard(r.key(), group, shard, at);
  }

  private static void inShard(EntityKey k, String group, int shard, String at) {
    assertThat(k.group()).as(at).isEqualTo(group);
    assertThat(RepairFuzzNode.shardOf(k)).as("served entity %s routes to the session's shard: %s", k, at)
        .isEqualTo(shard);
  }
}
