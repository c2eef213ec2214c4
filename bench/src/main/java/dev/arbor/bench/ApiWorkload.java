package dev.arbor.bench;

import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.model.v1.Condition;
import dev.arbor.api.banyandb.model.v1.Criteria;
import dev.arbor.api.banyandb.model.v1.Int;
import dev.arbor.api.banyandb.model.v1.LogicalExpression;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.ApplyResponse;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.banyandb.property.v1.QueryResponse;
import io.grpc.stub.StreamObserver;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the API benchmark sends: the properties (payloads from a seeded generator, so every build
 * compared gets the same bytes) and the request loops for apply, load and the three query kinds,
 * each checking its responses. Stateless apart from the prepared payloads; the per-server id
 * counters live in {@link ApiTarget}.
 */
final class ApiWorkload {
  static final String SCHEMA = "bench";
  private static final String ALPHABET =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

  private final Tag[] payloadTags;
  private final String[] kindValues;
  private final String[] zoneValues;
  private final int criteriaLimit;
  private final long applyIdSpace;

  ApiWorkload(long seed, int payloadBytes, int kinds, int zones, int criteriaLimit,
      long applyIdSpace) {
    Random r = new Random(seed);
    payloadTags = new Tag[256];
    char[] buf = new char[payloadBytes];
    for (int i = 0; i < payloadTags.length; i++) {
      for (int j = 0; j < buf.length; j++) {
        buf[j] = ALPHABET.charAt(r.nextInt(ALPHABET.length()));
      }
      payloadTags[i] = strTag("data", new String(buf));
      // Cache the UTF-8 bytes inside the (immutable, shared) message: no re-encoding per request.
      payloadTags[i].getValue().getStr().getValueBytes();
    }
    kindValues = new String[kinds];
    for (int i = 0; i < kinds; i++) {
      kindValues[i] = "kind-" + i;
    }
    zoneValues = new String[zones];
    for (int i = 0; i < zones; i++) {
      zoneValues[i] = "zone-" + i;
    }
    this.criteriaLimit = criteriaLimit;
    this.applyIdSpace = applyIdSpace;
  }

  // ---------------------------------------------------------------- data

  private static Tag strTag(String key, String value) {
    return Tag.newBuilder().setKey(key)
        .setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(value))).build();
  }

  private static Tag intTag(String key, long value) {
    return Tag.newBuilder().setKey(key)
        .setValue(TagValue.newBuilder().setInt(Int.newBuilder().setValue(value))).build();
  }

  Property property(String group, String id, long n, int kind, int zone) {
    return Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup(group).setName(SCHEMA))
        .setId(id)
        .addTags(payloadTags[(int) (n & 255)])
        .addTags(intTag("ts", n))
        .addTags(strTag("kind", kindValues[kind]))
        .addTags(strTag("zone", zoneValues[zone]))
        .build();
  }

  /** Loaded property i has kind i % kinds and zone (i / kinds) % zones. */
  private int kindOf(long i) {
    return (int) (i % kindValues.length);
  }

  private int zoneOf(long i) {
    return (int) ((i / kindValues.length) % zoneValues.length);
  }

  static ApplyRequest merge(Property p) {
    return ApplyRequest.newBuilder().setProperty(p)
        .setStrategy(ApplyRequest.Strategy.STRATEGY_MERGE).build();
  }

  // ---------------------------------------------------------------- request loops

  /** Applies of ids {@code prefix-<n>} for n = 0, 1, ... (taken from {@code seq}), forever. */
  ClosedLoop.Op<ApplyResponse> applyNew(ApiTarget target, String group, String prefix,
      AtomicLong seq) {
    return (client, observer) -> {
      long n = seq.getAndIncrement();
      target.stub(client).apply(merge(property(group, prefix + n, n, kindOf(n), zoneOf(n))),
          observer);
      return true;
    };
  }

  /** The apply levels' applies: new ids, or cycling over {@code --apply-id-space} ids. */
  ClosedLoop.Op<ApplyResponse> applyLevel(ApiTarget target, String group, AtomicLong seq) {
    return (client, observer) -> {
      long n = seq.getAndIncrement();
      long idNum = applyIdSpace > 0 ? n % applyIdSpace : n;
      target.stub(client).apply(merge(property(group, "a-" + idNum, n, kindOf(n), zoneOf(n))),
          observer);
      return true;
    };
  }

  /** Applies of {@code q-0 .. q-(count-1)}, then no more work. */
  ClosedLoop.Op<ApplyResponse> load(ApiTarget target, String group, int count, AtomicLong seq) {
    return (client, observer) -> {
      long n = seq.getAndIncrement();
      if (n >= count) {
        return false;
      }
      target.stub(client).apply(merge(property(group, "q-" + n, n, kindOf(n), zoneOf(n))),
          observer);
      return true;
    };
  }

  ClosedLoop.Op<QueryResponse> byId(ApiTarget target, String group, int loaded, int clients) {
    String[] expected = new String[clients];
    return new ClosedLoop.Op<>() {
      @Override
      public boolean issue(int client, StreamObserver<QueryResponse> observer) {
        String id = "q-" + ThreadLocalRandom.current().nextInt(loaded);
        expected[client] = id;
        target.stub(client).query(QueryRequest.newBuilder().addGroups(group).setName(SCHEMA)
            .addIds(id).setLimit(20).build(), observer);
        return true;
      }

      @Override
      public boolean check(int client, QueryResponse r) {
        return r != null && r.getPropertiesCount() == 1
            && r.getProperties(0).getId().equals(expected[client]);
      }
    };
  }

  /**
   * By-id queries walking {@code q-0 .. q-(loaded-1)} in order (shared by all clients), round and
   * round; {@code leftHalf} is told when the walk leaves the first half of the ids (0) and when
   * it wraps around (1), e.g. to make those keys disagree again before it comes back.
   */
  ClosedLoop.Op<QueryResponse> byIdInOrder(ApiTarget target, String group, int loaded,
      int clients, java.util.function.IntConsumer leftHalf) {
    String[] expected = new String[clients];
    AtomicLong cursor = new AtomicLong();
    int mid = loaded / 2;
    return new ClosedLoop.Op<>() {
      @Override
      public boolean issue(int client, StreamObserver<QueryResponse> observer) {
        long n = cursor.getAndIncrement();
        int i = (int) (n % loaded);
        if (n > 0 && i == mid) {
          leftHalf.accept(0);
        } else if (n > 0 && i == 0) {
          leftHalf.accept(1);
        }
        String id = "q-" + i;
        expected[client] = id;
        target.stub(client).query(QueryRequest.newBuilder().addGroups(group).setName(SCHEMA)
            .addIds(id).setLimit(20).build(), observer);
        return true;
      }

      @Override
      public boolean check(int client, QueryResponse r) {
        return r != null && r.getPropertiesCount() == 1
            && r.getProperties(0).getId().equals(expected[client]);
      }
    };
  }

  private static Criteria eq(String tag, String value) {
    return Criteria.newBuilder().setCondition(Condition.newBuilder().setName(tag)
        .setOp(Condition.BinaryOp.BINARY_OP_EQ)
        .setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(value)))
        .setMatchOption(Condition.MatchOption.getDefaultInstance())).build();
  }

  private static boolean allMatch(QueryResponse r, int limit, String tag1, String v1,
      String tag2, String v2) {
    if (r == null || r.getPropertiesCount() == 0 || r.getPropertiesCount() > limit) {
      return false;
    }
    for (Property p : r.getPropertiesList()) {
      boolean ok1 = false, ok2 = tag2 == null;
      for (Tag t : p.getTagsList()) {
        if (t.getKey().equals(tag1)) ok1 = t.getValue().getStr().getValue().equals(v1);
        if (tag2 != null && t.getKey().equals(tag2)) ok2 = t.getValue().getStr().getValue().equals(v2);
      }
      if (!ok1 || !ok2) {
        return false;
      }
    }
    return true;
  }

  ClosedLoop.Op<QueryResponse> byKind(ApiTarget target, String group, int loaded, int clients) {
    int[] expected = new int[clients];
    return new ClosedLoop.Op<>() {
      @Override
      public boolean issue(int client, StreamObserver<QueryResponse> observer) {
        int k = ThreadLocalRandom.current().nextInt(kindValues.length);
        expected[client] = k;
        target.stub(client).query(QueryRequest.newBuilder().addGroups(group).setName(SCHEMA)
            .setCriteria(eq("kind", kindValues[k])).setLimit(criteriaLimit).build(), observer);
        return true;
      }

      @Override
      public boolean check(int client, QueryResponse r) {
        // Property i has kind i % kinds: kind k exists iff k < loaded.
        if (expected[client] >= loaded) {
          return r != null && r.getPropertiesCount() == 0;
        }
        return allMatch(r, criteriaLimit, "kind", kindValues[expected[client]], null, null);
      }
    };
  }

  ClosedLoop.Op<QueryResponse> byKindAndZone(ApiTarget target, String group, int loaded,
      int clients) {
    int[][] expected = new int[clients][2];
    int kinds = kindValues.length;
    return new ClosedLoop.Op<>() {
      @Override
      public boolean issue(int client, StreamObserver<QueryResponse> observer) {
        int k = ThreadLocalRandom.current().nextInt(kinds);
        int z = ThreadLocalRandom.current().nextInt(zoneValues.length);
        expected[client][0] = k;
        expected[client][1] = z;
        Criteria and = Criteria.newBuilder().setLe(LogicalExpression.newBuilder()
            .setOp(LogicalExpression.LogicalOp.LOGICAL_OP_AND)
            .setLeft(eq("kind", kindValues[k])).setRight(eq("zone", zoneValues[z]))).build();
        target.stub(client).query(QueryRequest.newBuilder().addGroups(group).setName(SCHEMA)
            .setCriteria(and).setLimit(criteriaLimit).build(), observer);
        return true;
      }

      @Override
      public boolean check(int client, QueryResponse r) {
        // The first property with kind k and zone z is z * kinds + k.
        if ((long) expected[client][1] * kinds + expected[client][0] >= loaded) {
          return r != null && r.getPropertiesCount() == 0;
        }
        return allMatch(r, criteriaLimit, "kind", kindValues[expected[client][0]], "zone",
            zoneValues[expected[client][1]]);
      }
    };
  }
}
