package dev.arbor.simulation;

import dev.arbor.api.banyandb.model.v1.Condition;
import dev.arbor.api.banyandb.model.v1.Criteria;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.PropertyServiceGrpc;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.check.History;
import dev.arbor.check.ReplicaChecker;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Limited queries over every key, their answers judged against the history. Judged only where the
 * answer is determined: every data node up, no partition, no raced operation in flight, and no
 * message of the query faulted (every replica answered) — then the liaison sees every replica's
 * copy and must merge them to the current state. A key's possible current states are those the
 * replica checker allows at the end of a run ({@link ReplicaChecker#frontier}: an operation not
 * refused and not followed by an acknowledged one; "absent" too when one of them is a delete or
 * none is acknowledged). The answer must hold only rows that are a possible state of their key and
 * match the criteria (never an acknowledged-deleted key, never a version older than the newest
 * acknowledged one), no key twice, and at least min(limit, keys that match in every possible state)
 * rows: a liaison that drops stale candidates without refilling comes up short.
 */
final class QueryJudge {
  private final History history;
  private final List<String> keys;
  private final List<String> problems;
  private final BooleanSupplier determined;
  private final LongSupplier faultedMessages;
  private final LongSupplier elapsedMillis;
  private long judged;

  QueryJudge(History history, List<String> keys, List<String> problems, BooleanSupplier determined,
      LongSupplier faultedMessages, LongSupplier elapsedMillis) {
    this.history = history;
    this.keys = keys;
    this.problems = problems;
    this.determined = determined;
    this.faultedMessages = faultedMessages;
    this.elapsedMillis = elapsedMillis;
  }

  long judged() {
    return judged;
  }

  /**
   * Runs one limited query drawn from {@code r} (no criteria, or the value tag above or below a
   * threshold) and judges its answer when it is determined. Returns the failure, if the query
   * failed, for the caller to classify. {@code settle} waits for the liaison's calls the query
   * started (read repairs run after the answer): faults are counted once they have ended, or a
   * read repair's fault would count or not by thread timing and the run would not repeat.
   */
  StatusRuntimeException run(Random r, PropertyServiceGrpc.PropertyServiceBlockingStub stub, long seed,
      Runnable settle) {
    int limit = r.nextBoolean() ? 1 + r.nextInt(3) : 1 + r.nextInt(12);
    QueryRequest.Builder q = QueryRequest.newBuilder().addGroups(Simulation.GROUP).setName(Simulation.SCHEMA)
        .setLimit(limit);
    Predicate<String> matches = v -> true;
    String shown = "limit " + limit;
    int shape = r.nextInt(3);
    if (shape > 0) {
      String threshold = "v" + seed + "-" + r.nextInt(300);
      boolean above = shape == 1;
      q.setCriteria(Criteria.newBuilder().setCondition(Condition.newBuilder().setName("v")
          .setOp(above ? Condition.BinaryOp.BINARY_OP_GT : Condition.BinaryOp.BINARY_OP_LT)
          .setValue(TagValue.newBuilder().setStr(Str.newBuilder().setValue(threshold)))));
      // Lucene orders string terms by their UTF-8 bytes: for these ASCII values, String order.
      matches = above ? v -> v.compareTo(threshold) > 0 : v -> v.compareTo(threshold) < 0;
      shown += ", v " + (above ? ">" : "<") + " '" + threshold + "'";
    }
    boolean judge = determined.getAsBoolean();
    long faultedBefore = faultedMessages.getAsLong();
    List<Property> rows;
    try {
      rows = stub.query(q.build()).getPropertiesList();
    } catch (StatusRuntimeException e) {
      return e;
    }
    settle.run();
    if (judge && faultedMessages.getAsLong() == faultedBefore) {
      judged++;
      judge(shown, limit, matches, rows);
    }
    return null;
  }

  private void judge(String query, int limit, Predicate<String> matches, List<Property> rows) {
    int certain = 0;
    List<String> wrong = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (Property p : rows) {
      String key = p.getId();
      String value = valueOf(p);
      if (!seen.add(key)) {
        wrong.add(key + " twice");
        continue;
      }
      if (!keys.contains(key)) {
        wrong.add(key + "='" + value + "', a key no client wrote");
        continue;
      }
      List<History.Op> frontier = ReplicaChecker.frontier(history.ops(key));
      boolean possible = frontier.stream().anyMatch(o -> value.equals(o.value()));
      if (!possible || !matches.test(value)) {
        wrong.add(key + "='" + value + "'" + (possible ? " (does not match)" : "; allowed: " + frontier));
      }
    }
    for (String key : keys) {
      List<History.Op> frontier = ReplicaChecker.frontier(history.ops(key));
      boolean anyAcked = frontier.stream().anyMatch(o -> o.outcome() == History.Outcome.ACKED);
      boolean mayBeAbsent = frontier.isEmpty() || !anyAcked || frontier.stream().anyMatch(History.Op::isDelete);
      if (!mayBeAbsent && frontier.stream().allMatch(o -> matches.test(o.value()))) {
        certain++;
      }
    }
    if (!wrong.isEmpty()) {
      problems.add("a query (" + query + ") at " + elapsedMillis.getAsLong() + " ms answered rows that are not the"
          + " current state: " + wrong);
    }
    if (rows.size() < Math.min(limit, certain)) {
      problems.add("a query (" + query + ") at " + elapsedMillis.getAsLong() + " ms answered " + rows.size()
          + " rows, but " + certain + " keys match whatever the operations of unknown outcome did; got "
          + rows.stream().map(Property::getId).toList());
    }
  }

  private static String valueOf(Property p) {
    for (Tag t : p.getTagsList()) {
      if (t.getKey().equals("v")) {
        return t.getValue().getStr().getValue();
      }
    }
    return "";
  }
}
