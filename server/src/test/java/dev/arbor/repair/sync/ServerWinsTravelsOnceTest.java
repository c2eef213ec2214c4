package dev.arbor.repair.sync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.property.PropertyRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the server's copy wins, protocol 3 moves each record once: the listing carries the server's
 * mod revisions, so the client fetches the newer copy instead of pushing its own to lose it (and
 * get the winner back as the server's answer, as protocol 2 does). Mixed releases fall back to
 * protocol 2, which still repairs everything.
 */
class ServerWinsTravelsOnceTest {
  private static final String G = "g";
  private static final int N = 2_000;
  private static final int NEWER_ON_SERVER = 40;
  private static final int NEWER_ON_CLIENT = 10;

  @TempDir Path dir;

  /** The records' serialized bytes each way after diverging: {server's winners, client's winners}. */
  private static long[] diverge(SyncNode c, SyncNode s) {
    List<PropertyRecord> common = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      common.add(RepairSessionTest.rec("k" + i, 10, 0, "value-" + i));
    }
    c.putAll(common);
    s.putAll(common);
    List<PropertyRecord> onS = new ArrayList<>();
    List<PropertyRecord> onC = new ArrayList<>();
    long[] bytes = new long[2];
    for (int i = 0; i < NEWER_ON_SERVER; i++) {
      // The client holds a changed copy too, older than the server's: a contested leaf.
      onC.add(RepairSessionTest.rec("k" + (i * 37), 11, 0, "client's older change " + i));
      PropertyRecord w = RepairSessionTest.rec("k" + (i * 37), 12, 0, "server's newer change " + i);
      onS.add(w);
      bytes[0] += RecordCodec.toProto(G, 0, w).getSerializedSize();
    }
    for (int i = 0; i < NEWER_ON_CLIENT; i++) {
      PropertyRecord w = RepairSessionTest.rec("k" + (i * 37 + 1), 13, 0, "client's newer change " + i);
      onC.add(w);
      bytes[1] += RecordCodec.toProto(G, 0, w).getSerializedSize();
    }
    c.putAll(onC);
    s.putAll(onS);
    return bytes;
  }

  private static void assertConverged(SyncNode c, SyncNode s) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      ids.add("k" + i);
    }
    assertThat(c.snapshot(G, ids)).hasSize(N).isEqualTo(s.snapshot(G, ids));
    assertThat(c.get(G, "k37").modRevision()).isEqualTo(12);
    assertThat(c.get(G, "k38").modRevision()).isEqualTo(13);
    assertThat(c.syncWith(s, G, 0).rootMatch()).isTrue();
  }

  @Test
  void theServersWinnersAreFetchedOnceAndTheClientsLosersNeverPushed() throws Exception {
    try (SyncNode c = new SyncNode(dir, "c", 1); SyncNode s = new SyncNode(dir, "s", 1)) {
      long[] winners = diverge(c, s);
      SessionFigures f = c.syncWith(s, G, 0);
      assertThat(f.protocol()).isEqualTo(SessionProtocols.LISTED_REVISIONS);
      assertThat(f.repairedToClient()).isEqualTo(NEWER_ON_SERVER);
      assertThat(f.repairedToServer()).isEqualTo(NEWER_ON_CLIENT);
      assertThat(f.recordBytes()).as("every winner moved once, no loser moved")
          .isEqualTo(winners[0] + winners[1]);
      assertConverged(c, s);
    }
  }

  @Test
  void protocol2PushesTheLosersAndTakesTheWinnersBackAsAnswers() throws Exception {
    try (SyncNode c = new SyncNode(dir, "c2", 1, new SessionProtocols(1, 2)); SyncNode s = new SyncNode(dir, "s", 1)) {
      long[] winners = diverge(c, s);
      SessionFigures f = c.syncWith(s, G, 0);
      assertThat(f.protocol()).isEqualTo(SessionProtocols.DESCENT);
      assertThat(f.repairedToClient()).isEqualTo(NEWER_ON_SERVER);
      assertThat(f.repairedToServer()).isEqualTo(NEWER_ON_CLIENT);
      assertThat(f.recordBytes()).as("the client's losing copies travel too")
          .isGreaterThan(winners[0] * 2 + winners[1] - NEWER_ON_SERVER * 8L);
      assertThat(s.observed.fallbacks.poll(10, TimeUnit.SECONDS)).isEqualTo("server:2");
      assertConverged(c, s);
    }
  }

  @Test
  void aNewClientAndAProtocol2ServerRunProtocol2() throws Exception {
    try (SyncNode c = new SyncNode(dir, "c", 1); SyncNode s = new SyncNode(dir, "s2", 1, new SessionProtocols(1, 2))) {
      diverge(c, s);
      SessionFigures f = c.syncWith(s, G, 0);
      assertThat(f.protocol()).isEqualTo(SessionProtocols.DESCENT);
      assertThat(f.repairedToClient()).isEqualTo(NEWER_ON_SERVER);
      assertThat(f.repairedToServer()).isEqualTo(NEWER_ON_CLIENT);
      assertThat(c.observed.fallbacks).containsExactly("client:2");
      assertConverged(c, s);
    }
  }
}
