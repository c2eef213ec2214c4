package dev.arbor.liaison;

import static dev.arbor.liaison.ApiTestSupport.assertStatus;
import static dev.arbor.liaison.ApiTestSupport.cond;
import static dev.arbor.liaison.ApiTestSupport.or;
import static dev.arbor.liaison.ApiTestSupport.property;
import static dev.arbor.liaison.ApiTestSupport.spec;
import static dev.arbor.liaison.ApiTestSupport.str;
import static dev.arbor.liaison.ApiTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.banyandb.model.v1.Condition;
import dev.arbor.api.banyandb.model.v1.Criteria;
import io.grpc.Status;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A query too large for Lucene's clause limit is the caller's mistake: INVALID_ARGUMENT, not INTERNAL. */
class QueryClauseLimitApiTest {
  @TempDir static Path dataDir;
  static ApiTestSupport.Fixture api;

  @BeforeAll
  static void start() throws Exception {
    api = ApiTestSupport.Fixture.start(dataDir);
    api.createGroup("q", 1);
    api.createSchema("q", "s", spec("v", TagType.TAG_TYPE_STRING));
    api.apply(property("q", "s", "x", tag("v", str("v1"))));
  }

  @AfterAll
  static void stop() throws Exception {
    api.close();
  }

  /** n conditions OR'ed as a balanced tree (a chain would be deeper than protobuf allows). */
  private static Criteria orOf(int n) {
    return orOf(0, n);
  }

  private static Criteria orOf(int from, int to) {
    if (to - from == 1) {
      return cond("v", Condition.BinaryOp.BINARY_OP_EQ, str("v" + from));
    }
    int mid = (from + to) >>> 1;
    return or(orOf(from, mid), orOf(mid, to));
  }

  @Test
  void tooManyConditionsAnswerInvalidArgument() {
    assertStatus(() -> api.query(ApiTestSupport.query("s", "q").setCriteria(orOf(3000))),
        Status.Code.INVALID_ARGUMENT, "criteria", "clauses");
    // A query of reasonable size still works, and the server is fine afterwards.
    assertThat(api.query(ApiTestSupport.query("s", "q").setCriteria(orOf(10)))).hasSize(1);
  }
}
