package dev.arbor.it;

import static dev.arbor.it.Props.int64;
import static dev.arbor.it.Props.property;
import static dev.arbor.it.Props.propertyGroup;
import static dev.arbor.it.Props.schema;
import static dev.arbor.it.Props.str;
import static dev.arbor.it.Props.tagValue;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.skywalking.banyandb.database.v1.BanyandbDatabase.TagType;
import org.apache.skywalking.banyandb.model.v1.BanyandbModel;
import org.apache.skywalking.banyandb.property.v1.BanyandbProperty;
import org.apache.skywalking.banyandb.property.v1.BanyandbProperty.ApplyRequest.Strategy;
import org.apache.skywalking.banyandb.v1.client.BanyanDBClient;
import org.apache.skywalking.banyandb.v1.client.PropertyQuery;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Durability under {@code kill -9}: concurrent writers against the server child process, SIGKILL
 * at a random point mid-stream, restart on the same data directory, then check that
 *
 * <ul>
 *   <li>every acknowledged write reads back with exactly its acknowledged value;
 *   <li>each per-writer counter (merge-updated, increasing) reads back within [last acknowledged,
 *       last attempted], and the tag the merges never re-sent is still there;
 *   <li>the only unacknowledged keys that may be visible are the at-most-one in-flight write per
 *       writer, and such a key is complete (never partial);
 *   <li>what a previous restart showed stays (an in-flight key seen once stays, one not seen never
 *       appears later).
 * </ul>
 *
 * Repeated for {@link #CYCLES} kill/restart cycles. Seed: {@code -Darbor.it.seed=N} reproduces a
 * run (it chooses the kill points and the payloads' salt); the seed is printed.
 */
@Timeout(180)
class CrashRecoveryIT {
  static final int WRITERS = 8;
  static final int CYCLES = 3;
  static final int PAYLOAD_CHARS = 1024;
  static final String G = "crash";
  static final String BLOB = "blob";
  static final String COUNTER = "counter";
  private static final Pattern KEY = Pattern.compile("w(\\d+)-(\\d+)");

  private ArborProcess server;
  private BanyanDBClient client;

  /** Per-writer state, kept across cycles (touched by one writer thread at a time). */
  static final class WriterState {
    final int index;
    long nextSeq = 1;
    /** seq -> acknowledged (true); every seq below nextSeq was attempted exactly once. */
    final Set<Long> acked = new java.util.HashSet<>();
    /** seq of an attempt that failed (at most one per cycle: the writer stops on failure). */
    final List<Long> inFlight = new ArrayList<>();
    /** in-flight seqs resolved by a verification: true = visible (must stay), false = absent. */
    final Map<Long, Boolean> inFlightSeen = new HashMap<>();
    long counterAcked;
    long counterAttempted;
    /** Lower bound for the counter learned from the last verification. */
    long counterFloor;

    WriterState(int index) {
      this.index = index;
    }
  }

  @AfterEach
  void cleanUp() throws Exception {
    ArborProcess.closeAll(client, server);
  }

  @Test
  void acknowledgedWritesSurviveKill9() throws Exception {
    long seed = Long.getLong("arbor.it.seed", System.nanoTime());
    System.out.printf("[CrashRecoveryIT] seed=%d (rerun with -Darbor.it.seed=%d)%n", seed, seed);
    Random rnd = new Random(seed);
    long salt = rnd.nextLong();

    Path dataDir = ArborProcess.newDataDir("crash");
    server = ArborProcess.start("crash-0", dataDir, serverArgs(0, rnd));
    client = server.connectClient();
    client.define(propertyGroup(G, 4));
    client.define(
        schema(G, BLOB, "payload", TagType.TAG_TYPE_STRING, "writer", TagType.TAG_TYPE_INT, "seq", TagType.TAG_TYPE_INT));
    client.define(schema(G, COUNTER, "value", TagType.TAG_TYPE_INT, "owner", TagType.TAG_TYPE_STRING));

    List<WriterState> writers = new ArrayList<>();
    for (int i = 0; i < WRITERS; i++) {
      WriterState w = new WriterState(i);
      // "owner" is written once; the merges below never re-send it, so it must survive them.
      BanyandbProperty.ApplyResponse r =
          client.apply(property(G, COUNTER, "c" + i, int64("value", 0), str("owner", "writer-" + i)));
      assertThat(r.getCreated()).isTrue();
      writers.add(w);
    }

    for (int cycle = 1; cycle <= CYCLES; cycle++) {
      int killAfter = 100 + rnd.nextInt(500);
      System.out.printf("[CrashRecoveryIT] cycle %d: kill -9 after %d acknowledged writes%n", cycle, killAfter);

      Map<Integer, Integer> inFlightBefore = new HashMap<>();
      writers.forEach(w -> inFlightBefore.put(w.index, w.inFlight.size()));
      AtomicBoolean killing = new AtomicBoolean();
      AtomicInteger ackedThisCycle = new AtomicInteger();
      ConcurrentLinkedQueue<String> unexpected = new ConcurrentLinkedQueue<>();
      List<Thread> threads = new ArrayList<>();
      BanyanDBClient c = client;
      for (WriterState w : writers) {
        Thread t =
            new Thread(() -> writeUntilFailure(c, w, salt, killing, ackedThisCycle, unexpected), "writer-" + w.index);
        t.setDaemon(true);
        threads.add(t);
      }
      threads.forEach(Thread::start);

      final int target = killAfter;
      await("cycle " + cycle + ": " + target + " acknowledged writes")
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(5))
          .until(() -> ackedThisCycle.get() >= target || !unexpected.isEmpty() || threads.stream().noneMatch(Thread::isAlive));
      assertThat(unexpected).as("write errors while the server was up\n%s", server.logTail(40)).isEmpty();

      killing.set(true);
      server.kill9();
      for (Thread t : threads) {
        t.join(Duration.ofSeconds(30).toMillis());
        assertThat(t.isAlive())
            .as("%s still blocked 30 s after the server was killed (no answer, no error)", t.getName())
            .isFalse();
      }
      assertThat(unexpected).as("unexpected writer errors").isEmpty();
      client.close();
      client = null;

      int acked = writers.stream().mapToInt(w -> w.acked.size()).sum();
      System.out.printf(
          "[CrashRecoveryIT] cycle %d: killed with %d acknowledged blob writes in total (%d this"
              + " cycle), blob writes in flight: %s%n",
          cycle, acked, ackedThisCycle.get(), inFlightSummary(writers, inFlightBefore));

      server = ArborProcess.start("crash-" + cycle, dataDir, serverArgs(cycle, rnd));
      client = server.connectClient();
      verify(client, writers, salt, cycle);
    }
    server.stop(); // bounded; the exit code is ServerLifecycleIT's business
    ArborProcess.deleteDataDir(dataDir);
  }

  // ---------------------------------------------------------------------------------------------

  private static void writeUntilFailure(
      BanyanDBClient c,
      WriterState w,
      long salt,
      AtomicBoolean killing,
      AtomicInteger ackedThisCycle,
      ConcurrentLinkedQueue<String> unexpected) {
    while (true) {
      long seq = w.nextSeq++;
      try {
        BanyandbProperty.ApplyResponse r =
            c.apply(blob(w.index, seq, salt), Strategy.STRATEGY_REPLACE);
        if (!r.getCreated() || r.getTagsNum() != 3) {
          unexpected.add("w" + w.index + "-" + seq + ": unexpected response " + r);
        }
        w.acked.add(seq);
        ackedThisCycle.incrementAndGet();
      } catch (Exception e) {
        w.inFlight.add(seq);
        if (!killing.get()) {
          unexpected.add("w" + w.index + "-" + seq + " failed while the server was up: " + e);
        }
        return;
      }
      long v = Math.max(w.counterAttempted, w.counterFloor) + 1;
      w.counterAttempted = v;
      try {
        BanyandbProperty.ApplyResponse r = c.apply(property(G, COUNTER, "c" + w.index, int64("value", v)));
        if (r.getCreated() || r.getTagsNum() != 2) {
          unexpected.add("c" + w.index + "=" + v + ": unexpected response " + r);
        }
        w.counterAcked = v;
      } catch (Exception e) {
        if (!killing.get()) {
          unexpected.add("c" + w.index + "=" + v + " failed while the server was up: " + e);
        }
        return;
      }
    }
  }

  private static void verify(BanyanDBClient c, List<WriterState> writers, long salt, int cycle)
      throws Exception {
    // 1. Every key that exists (small projection), checked against what was attempted.
    PropertyQuery all = new PropertyQuery(List.of(G), BLOB, Set.of("seq"));
    all.setLimit(10_000);
    List<BanyandbProperty.Property> listed = c.query(all.build()).getPropertiesList();
    assertThat(listed.size()).as("scan must not be truncated").isLessThan(10_000);
    Map<Integer, Set<Long>> present = new HashMap<>();
    List<String> violations = new ArrayList<>();
    for (BanyandbProperty.Property p : listed) {
      Matcher m = KEY.matcher(p.getId());
      if (!m.matches()) {
        violations.add("unknown key " + p.getId());
        continue;
      }
      int wi = Integer.parseInt(m.group(1));
      long seq = Long.parseLong(m.group(2));
      if (wi >= writers.size()) {
        violations.add("unknown writer in " + p.getId());
        continue;
      }
      if (!present.computeIfAbsent(wi, k -> new java.util.HashSet<>()).add(seq)) {
        violations.add("key listed twice: " + p.getId());
      }
      WriterState w = writers.get(wi);
      if (!w.acked.contains(seq)) {
        if (!w.inFlight.contains(seq)) {
          violations.add("visible but never acknowledged nor in flight: " + p.getId());
        } else if (Boolean.FALSE.equals(w.inFlightSeen.get(seq))) {
          violations.add("in-flight key absent after an earlier restart appeared later: " + p.getId());
        }
      }
    }

    // 2. Full content of every acknowledged key and of every visible in-flight key.
    int checked = 0;
    for (WriterState w : writers) {
      Set<Long> here = present.getOrDefault(w.index, Set.of());
      List<Long> toRead = new ArrayList<>(w.acked);
      for (long seq : w.inFlight) {
        if (here.contains(seq)) {
          toRead.add(seq);
        } else if (Boolean.TRUE.equals(w.inFlightSeen.get(seq))) {
          violations.add("in-flight key seen after an earlier restart is gone: " + key(w.index, seq));
        }
      }
      for (long seq : w.acked) {
        if (!here.contains(seq)) {
          violations.add("acknowledged key missing from the scan: " + key(w.index, seq));
        }
      }
      for (int from = 0; from < toRead.size(); from += 200) {
        List<Long> batch = toRead.subList(from, Math.min(toRead.size(), from + 200));
        List<String> ids = batch.stream().map(s -> key(w.index, s)).toList();
        Map<String, BanyandbProperty.Property> got = Props.byIdMap(Props.byIds(c, G, BLOB, ids));
        for (long seq : batch) {
          String id = key(w.index, seq);
          BanyandbProperty.Property p = got.get(id);
          if (p == null) {
            violations.add((w.acked.contains(seq) ? "acknowledged" : "in-flight") + " key unreadable by id: " + id);
            continue;
          }
          BanyandbProperty.Property want = blob(w.index, seq, salt);
          if (!p.getTagsList().equals(want.getTagsList())) {
            violations.add(
                (w.acked.contains(seq) ? "acknowledged" : "in-flight (partial?)")
                    + " key "
                    + id
                    + " has wrong content: tags "
                    + Props.tagKeys(p)
                    + describeDiff(p, want));
          }
          checked++;
        }
      }
      for (long seq : w.inFlight) {
        w.inFlightSeen.putIfAbsent(seq, here.contains(seq));
      }
    }

    // 3. Counters: within [acked, attempted], merged tag kept.
    List<String> counterIds = writers.stream().map(w -> "c" + w.index).toList();
    Map<String, BanyandbProperty.Property> counters = Props.byIdMap(Props.byIds(c, G, COUNTER, counterIds));
    for (WriterState w : writers) {
      BanyandbProperty.Property p = counters.get("c" + w.index);
      if (p == null) {
        violations.add("counter c" + w.index + " missing");
        continue;
      }
      BanyandbModel.TagValue value = tagValue(p, "value");
      BanyandbModel.TagValue owner = tagValue(p, "owner");
      long lower = Math.max(w.counterAcked, w.counterFloor);
      long upper = Math.max(w.counterAttempted, w.counterFloor);
      if (value == null || !value.hasInt()) {
        violations.add("counter c" + w.index + " has no int value: " + p.getTagsList());
        continue;
      }
      long v = value.getInt().getValue();
      if (v < lower || v > upper) {
        violations.add(
            "counter c" + w.index + " = " + v + ", expected within [" + lower + ", " + upper + "] (acked, attempted)");
      }
      if (owner == null || !owner.getStr().getValue().equals("writer-" + w.index)) {
        violations.add("counter c" + w.index + " lost its merged tag 'owner': " + p.getTagsList());
      }
      if (p.getTagsCount() != 2) {
        violations.add("counter c" + w.index + " has " + p.getTagsCount() + " tags: " + Props.tagKeys(p));
      }
      w.counterFloor = Math.max(w.counterFloor, v);
    }

    System.out.printf(
        "[CrashRecoveryIT] cycle %d verified: %d keys listed, %d read in full, counters %s%n",
        cycle,
        listed.size(),
        checked,
        writers.stream().map(w -> w.counterFloor + "").toList());
    assertThat(violations).as("durability violations after restart %d", cycle).isEmpty();
  }

  private static String describeDiff(BanyandbProperty.Property got, BanyandbProperty.Property want) {
    StringBuilder sb = new StringBuilder();
    for (BanyandbModel.Tag t : want.getTagsList()) {
      BanyandbModel.TagValue v = tagValue(got, t.getKey());
      if (!t.getValue().equals(v)) {
        String s = v == null ? "<absent>" : v.toString().replace('\n', ' ');
        sb.append("; ").append(t.getKey()).append(" = ").append(s.length() > 80 ? s.substring(0, 80) + "..." : s);
      }
    }
    return sb.toString();
  }


  static String key(int writer, long seq) {
    return "w" + writer + "-" + seq;
  }

  /** The blob property for (writer, seq): ~1 KB payload derived from (writer, seq, salt). */
  static BanyandbProperty.Property blob(int writer, long seq, long salt) {
    return property(
        G, BLOB, key(writer, seq), str("payload", payload(writer, seq, salt)), int64("writer", writer), int64("seq", seq));
  }

  static String payload(int writer, long seq, long salt) {
    Random r = new Random(salt ^ (writer * 0x9E3779B97F4A7C15L) ^ (seq * 0xC2B2AE3D27D4EB4FL));
    StringBuilder sb = new StringBuilder(PAYLOAD_CHARS);
    sb.append(key(writer, seq)).append(':');
    while (sb.length() < PAYLOAD_CHARS) {
      sb.append((char) ('a' + r.nextInt(26)));
    }
    return sb.toString();
  }

  private static String inFlightSummary(List<WriterState> writers, Map<Integer, Integer> before) {
    List<String> s = new ArrayList<>();
    for (WriterState w : writers) {
      for (long seq : w.inFlight.subList(before.get(w.index), w.inFlight.size())) {
        s.add(key(w.index, seq));
      }
    }
    return s.toString();
  }

  /**
   * Server options for the i-th start. Starts 1 and 2 (which take the writes of cycles 2 and 3)
   * checkpoint every few hundred ms, so kills also land during or right after index commits and
   * write-ahead-log truncation; the others keep the default (30 s: recovery is pure log replay).
   */
  private static String[] serverArgs(int start, Random rnd) {
    if (start == 1 || start == 2) {
      String interval = (100 + rnd.nextInt(400)) + "ms";
      System.out.printf("[CrashRecoveryIT] start %d: --checkpoint-interval=%s%n", start, interval);
      return new String[] {"--checkpoint-interval=" + interval};
    }
    return new String[0];
  }
}
