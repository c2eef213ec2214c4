package dev.arbor.repair.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.property.PropertyRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The descent's traffic (protocol 3) grows with the differences, not with the shard: two replicas of 100,000
 * properties, then d = 1, 10, 100, 1,000 differences of every kind (newer on either side, only on
 * either side, deleted on either side) at seeded random keys; the bytes counted on the real gRPC
 * stream over loopback, less the records' own bytes, stay within 2 KB + 200 B × d.
 *
 * <p>Why that bound holds: the fixed part is the handshake and the compact slot table (32 × 8-byte
 * digests and leaf counts, about 0.5 KB) plus a few dozen bytes per message; per difference the
 * descent costs 8 bytes (one left-child sum) per level for about log2(100,000 / 32) ≈ 12 levels,
 * about 2 listed leaves of 16 bytes at the bottom, a few bits of request, and 1–3 bytes of fetch
 * number or the records' field framing: ≈ 140 B. Levels near the top are shared by the
 * differences (for d = 1,000 every one of a slot's top 5 levels differs anyway), so larger d cost
 * less per difference.
 */
class DescentTrafficTest {
  private static final String G = "g";
  private static final int N = 100_000;

  @TempDir Path dir;

  @Test
  void sessionBytesBeyondTheRecordsStayWithin2KBPlus200BPerDifferenceAt100k() throws Exception {
    long seed = System.nanoTime();
    System.out.println("DescentTrafficTest seed " + seed);
    Random rnd = new Random(seed);
    try (SyncNode c = new SyncNode(dir, "c", 1); SyncNode s = new SyncNode(dir, "s", 1)) {
      Map<String, Long> rev = new HashMap<>();
      List<PropertyRecord> batch = new ArrayList<>();
      for (int i = 0; i < N; i++) {
        String id = "p" + i;
        rev.put(id, 10L);
        batch.add(RepairSessionTest.rec(id, 10, 0, "value-" + i));
        if (batch.size() == 10_000 || i == N - 1) {
          c.putAll(batch);
          s.putAll(batch);
          batch.clear();
        }
      }
      assertThat(c.syncWith(s, G, 0).rootMatch()).isTrue();
      s.wire.takeTotal();
      int fresh = 0;
      for (int d : new int[] {1, 10, 100, 1_000}) {
        Set<String> touched = new LinkedHashSet<>();
        while (touched.size() < d) {
          touched.add("p" + rnd.nextInt(N));
        }
        List<String> ids = new ArrayList<>(touched);
        // One durable batch per side (a write each would cost a WAL fsync each).
        List<PropertyRecord> onC = new ArrayList<>();
        List<PropertyRecord> onS = new ArrayList<>();
        for (String id : new ArrayList<>(ids)) {
          long r = rev.get(id) + 1;
          switch (rnd.nextInt(6)) {
            case 0 -> { // newer on the server
              onS.add(RepairSessionTest.rec(id, r, 0, "s" + r));
              rev.put(id, r);
            }
            case 1 -> { // newer on the client
              onC.add(RepairSessionTest.rec(id, r, 0, "c" + r));
              rev.put(id, r);
            }
            case 2 -> { // deleted on one side
              (rnd.nextBoolean() ? onC : onS).add(RepairSessionTest.rec(id, r, 1_700_000_000_000L + r, "gone"));
              rev.put(id, r);
            }
            case 3 -> { // both changed it, the server later
              onC.add(RepairSessionTest.rec(id, r, 0, "c" + r));
              onS.add(RepairSessionTest.rec(id, r + 1, 0, "s" + r));
              rev.put(id, r + 1);
            }
            default -> { // a new key on one side only (in place of an existing one's change)
              String nid = "new" + fresh++;
              rev.put(nid, 1L);
              (rnd.nextBoolean() ? onC : onS).add(RepairSessionTest.rec(nid, 1, 0, "n"));
              ids.set(ids.indexOf(id), nid);
            }
          }
        }
        c.putAll(onC);
        s.putAll(onS);
        SessionFigures f = c.syncWith(s, G, 0);
        long wire = s.wire.takeTotal();
        long beyond = wire - f.recordBytes();
        System.out.printf("seed %d, d=%d: %d B on the wire, %d B of records, %d B beyond (bound %d B);"
            + " %d slots differ, %d leaves compared%n", seed, d, wire, f.recordBytes(), beyond, 2048 + 200L * d,
            f.slotsDiffering(), f.leavesCompared());
        assertThat(f.protocol()).isEqualTo(SessionProtocols.LISTED_REVISIONS);
        assertThat(f.repairedToServer() + f.repairedToClient()).as("seed %d, d=%d: every difference repaired", seed, d)
            .isGreaterThanOrEqualTo(d);
        assertThat(beyond).as("seed %d, d=%d: bytes beyond the records", seed, d).isLessThanOrEqualTo(2048 + 200L * d);
        assertThat(c.syncWith(s, G, 0).rootMatch()).as("seed %d, d=%d: one session repaired all", seed, d).isTrue();
        s.wire.takeTotal();
        assertThat(c.snapshot(G, ids)).as("seed %d, d=%d", seed, d).isEqualTo(s.snapshot(G, ids));
        for (String id : ids) {
          assertThat(c.get(G, id).modRevision()).as("seed %d: %s holds the winner", seed, id).isEqualTo(rev.get(id));
        }
      }
    }
  }
}
