package dev.arbor.repair.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.arbor.property.PropertyRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mixed releases during a rolling upgrade: the handshake carries the session protocol; two nodes
 * use the highest version both speak (counted as a fallback on the newer side), and refuse with
 * FAILED_PRECONDITION and a metric, comparing nothing, when they have none in common. Nodes of
 * another release are stood in for by nodes limited to some protocol versions.
 */
class ProtocolHandshakeTest {
  private static final String G = "g";

  @TempDir Path dir;

  private static void diverge(SyncNode c, SyncNode s) {
    List<PropertyRecord> common = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      common.add(RepairSessionTest.rec("k" + i, 10, 0, "v" + i));
    }
    c.putAll(common);
    s.putAll(common);
    c.put(RepairSessionTest.rec("k7", 11, 0, "client newer"), RepairSessionTest.rec("only-c", 1, 0, "c"));
    s.put(RepairSessionTest.rec("k900", 12, 0, "server newer"), RepairSessionTest.rec("only-s", 1, 0, "s"));
  }

  private static void assertRepaired(SyncNode c, SyncNode s) {
    List<String> ids = List.of("k7", "k900", "only-c", "only-s", "k3");
    assertThat(c.snapshot(G, ids)).hasSize(5).isEqualTo(s.snapshot(G, ids));
    assertThat(c.get(G, "k7").modRevision()).isEqualTo(11);
    assertThat(c.get(G, "k900").modRevision()).isEqualTo(12);
  }

  @Test
  void anOldClientAndANewServerRunProtocol1AndTheServerCountsTheFallback() throws Exception {
    try (SyncNode c = new SyncNode(dir, "old-c", 1, new SessionProtocols(1, 1));
        SyncNode s = new SyncNode(dir, "new-s", 1)) {
      diverge(c, s);
      SessionFigures f = c.syncWith(s, G, 0);
      assertThat(f.protocol()).isEqualTo(1);
      assertThat(f.repairedToServer()).isEqualTo(2);
      assertThat(f.repairedToClient()).isEqualTo(2);
      assertRepaired(c, s);
      assertThat(s.observed.fallbacks.poll(10, TimeUnit.SECONDS)).isEqualTo("server:1");
      assertThat(c.observed.fallbacks).as("the old side runs its newest").isEmpty();
      assertThat(c.syncWith(s, G, 0).rootMatch()).isTrue();
    }
  }

  @Test
  void aNewClientFallsBackToAnOldServersProtocolAndCountsIt() throws Exception {
    try (SyncNode c = new SyncNode(dir, "new-c", 1);
        SyncNode s = new SyncNode(dir, "old-s", 1, new SessionProtocols(1, 1))) {
      diverge(c, s);
      SessionFigures f = c.syncWith(s, G, 0);
      assertThat(f.protocol()).isEqualTo(1);
      assertThat(f.repairedToServer() + f.repairedToClient()).isEqualTo(4);
      assertRepaired(c, s);
      assertThat(c.observed.fallbacks).containsExactly("client:1");
      assertThat(s.observed.fallbacks).isEmpty();
    }
  }

  @Test
  void twoNewNodesRunProtocol3WithoutAFallback() throws Exception {
    try (SyncNode c = new SyncNode(dir, "c", 1); SyncNode s = new SyncNode(dir, "s", 1)) {
      diverge(c, s);
      SessionFigures f = c.syncWith(s, G, 0);
      assertThat(f.protocol()).isEqualTo(SessionProtocols.LISTED_REVISIONS);
      assertThat(f.repairedToServer() + f.repairedToClient()).isEqualTo(4);
      assertRepaired(c, s);
      assertThat(c.observed.fallbacks).isEmpty();
      assertThat(s.observed.fallbacks).isEmpty();
    }
  }

  @Test
  void aServerSpeakingNoVersionOfTheClientsRefusesWithFailedPreconditionAndCountsIt() throws Exception {
    try (SyncNode c = new SyncNode(dir, "old-c", 1, new SessionProtocols(1, 1));
        SyncNode s = new SyncNode(dir, "future-s", 1, new SessionProtocols(2, 2))) {
      diverge(c, s);
      assertThatThrownBy(() -> c.syncWith(s, G, 0)).isInstanceOfSatisfying(SyncFailedException.class, e -> {
        assertThat(e.abortsRound()).as("the round tries the next node").isFalse();
        assertThat(e.getMessage()).contains("FAILED_PRECONDITION")
            .contains("its newest repair session protocol is 1, this node speaks 2")
            .contains("no version in common");
      });
      assertThat(s.observed.protocolMismatches.poll(10, TimeUnit.SECONDS)).isEqualTo("server:1");
      assertThat(c.get(G, "only-s")).as("nothing was exchanged").isNull();
      assertThat(s.get(G, "only-c")).isNull();
    }
  }

  @Test
  void aClientRefusesAServerAnsweringWithAVersionItDoesNotSpeak() throws Exception {
    try (SyncNode c = new SyncNode(dir, "future-c", 1, new SessionProtocols(2, 2));
        SyncNode s = new SyncNode(dir, "old-s", 1, new SessionProtocols(1, 1))) {
      diverge(c, s);
      assertThatThrownBy(() -> c.syncWith(s, G, 0)).isInstanceOfSatisfying(SyncFailedException.class, e -> {
        assertThat(e.abortsRound()).isFalse();
        assertThat(e.getMessage()).contains("peer old-s answered with repair session protocol 1, this node speaks 2")
            .contains("no version in common");
      });
      assertThat(c.observed.protocolMismatches).containsExactly("client:1");
      assertThat(c.get(G, "only-s")).as("nothing was exchanged").isNull();
      assertThat(s.get(G, "only-c")).isNull();
    }
  }
}
