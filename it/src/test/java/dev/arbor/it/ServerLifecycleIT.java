package dev.arbor.it;

import static dev.arbor.it.Props.byId;
import static dev.arbor.it.Props.int64;
import static dev.arbor.it.Props.property;
import static dev.arbor.it.Props.propertyGroup;
import static dev.arbor.it.Props.schema;
import static dev.arbor.it.Props.str;
import static dev.arbor.it.Props.stripRevisions;
import static dev.arbor.it.Props.stripServerFields;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.apache.skywalking.banyandb.common.v1.BanyandbCommon;
import org.apache.skywalking.banyandb.database.v1.BanyandbDatabase;
import org.apache.skywalking.banyandb.database.v1.BanyandbDatabase.TagType;
import org.apache.skywalking.banyandb.property.v1.BanyandbProperty;
import org.apache.skywalking.banyandb.v1.client.BanyanDBClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Process-level behaviour: graceful stop, restart, data-dir lock, CLI help. */
@Timeout(120)
class ServerLifecycleIT {
  private static final Duration CLI_TIMEOUT = Duration.ofSeconds(30);

  private ArborProcess first;
  private ArborProcess second;
  private BanyanDBClient client;

  @AfterEach
  void cleanUp() throws Exception {
    if (client != null) {
      client.close();
      client = null;
    }
    if (second != null) {
      second.close();
    }
    if (first != null) {
      first.close();
    }
  }

  @Test
  void sigtermExitsZeroAndRestartServesTheData() throws Exception {
    Path dataDir = ArborProcess.newDataDir("lifecycle");
    first = ArborProcess.start("lifecycle-a", dataDir);
    client = connect(first);

    BanyandbCommon.Group group = propertyGroup("life", 2);
    BanyandbCommon.Group definedGroup = client.define(group);
    BanyandbDatabase.Property schema =
        schema("life", "cfg", "name", TagType.TAG_TYPE_STRING, "n", TagType.TAG_TYPE_INT);
    client.define(schema);
    BanyandbDatabase.Property definedSchema = client.findPropertyDefinition("life", "cfg");

    assertThat(client.apply(property("life", "cfg", "k1", str("name", "one"), int64("n", 1))).getCreated()).isTrue();
    assertThat(client.apply(property("life", "cfg", "k2", str("name", "two"))).getCreated()).isTrue();
    assertThat(client.apply(property("life", "cfg", "k2", int64("n", 22))).getTagsNum()).isEqualTo(2);
    assertThat(client.apply(property("life", "cfg", "k3", str("name", "three"))).getCreated()).isTrue();
    assertThat(client.deleteProperty("life", "cfg", "k3").getDeleted()).isTrue();
    BanyandbProperty.Property k1 = byId(client, "life", "cfg", "k1");
    BanyandbProperty.Property k2 = byId(client, "life", "cfg", "k2");
    client.close();
    client = null;

    int code = first.stop();
    assertThat(code).as("exit code after SIGTERM\n%s", first.logTail(40)).isZero();

    ArborProcess restarted = ArborProcess.start("lifecycle-b", dataDir);
    first = restarted;
    client = connect(restarted);
    assertThat(client.findGroup("life")).as("group after restart").isEqualTo(definedGroup);
    assertThat(stripRevisions(client.findGroup("life"))).isEqualTo(group);
    BanyandbDatabase.Property schemaAfter = client.findPropertyDefinition("life", "cfg");
    assertThat(stripServerFields(schemaAfter)).isEqualTo(schema);
    assertThat(schemaAfter.getMetadata().getCreateRevision())
        .isEqualTo(definedSchema.getMetadata().getCreateRevision());

    assertThat(byId(client, "life", "cfg", "k1")).as("k1 after restart").isEqualTo(k1);
    assertThat(byId(client, "life", "cfg", "k2")).as("k2 after restart").isEqualTo(k2);
    assertThat(k2.getTagsList()).containsExactly(int64("n", 22), str("name", "two"));
    assertThat(byId(client, "life", "cfg", "k3")).as("deleted k3 after restart").isNull();

    // Versions keep growing across a restart; the previous version is known (created=false).
    BanyandbProperty.ApplyResponse r = client.apply(property("life", "cfg", "k1", int64("n", 2)));
    assertThat(r.getCreated()).isFalse();
    assertThat(r.getTagsNum()).isEqualTo(2);
    BanyandbProperty.Property k1b = byId(client, "life", "cfg", "k1");
    assertThat(k1b.getTagsList()).containsExactly(int64("n", 2), str("name", "one"));
    assertThat(k1b.getMetadata().getModRevision()).isGreaterThan(k1.getMetadata().getModRevision());
    assertThat(k1b.getMetadata().getCreateRevision()).isEqualTo(k1.getMetadata().getCreateRevision());
    client.close();
    client = null;

    assertThat(restarted.stop()).as("exit code after SIGTERM\n%s", restarted.logTail(40)).isZero();
    ArborProcess.deleteDataDir(dataDir);
  }

  @Test
  void secondServerOnTheSameDataDirFailsFast() throws Exception {
    Path dataDir = ArborProcess.newDataDir("exclusive");
    first = ArborProcess.start("lock-owner", dataDir);
    client = connect(first);
    client.define(propertyGroup("locked", 1));
    client.define(schema("locked", "s", "v", TagType.TAG_TYPE_STRING));
    client.apply(property("locked", "s", "x", str("v", "before")));

    second = ArborProcess.launchStandalone("lock-intruder", dataDir);
    assertThat(second.waitFor(CLI_TIMEOUT))
        .as("second server on a locked data dir must exit by itself\n%s", second.logTail(40))
        .isTrue();
    int code = second.process().exitValue();
    String out = second.output();
    assertThat(code).as("exit code of the second server\n%s", out).isNotZero();
    List<String> lines = out.lines().toList();
    // one readable line that names the data directory and says why it cannot be used
    String dir = dataDir.toAbsolutePath().toString();
    assertThat(lines)
        .as("a readable error line naming the data directory and the lock")
        .anySatisfy(
            l -> {
              assertThat(l).contains(dir);
              assertThat(l.toLowerCase(Locale.ROOT)).containsAnyOf("lock", "in use", "already");
            });
    assertThat(lines)
        .as("no stack trace for an expected error")
        .noneSatisfy(l -> assertThat(l).startsWith("\tat "));
    assertThat(second.healthy()).isFalse();

    // The first server is unaffected.
    assertThat(first.process().isAlive()).isTrue();
    assertThat(first.healthy()).isTrue();
    assertThat(client.apply(property("locked", "s", "x", str("v", "after"))).getCreated()).isFalse();
    assertThat(byId(client, "locked", "s", "x").getTagsList()).containsExactly(str("v", "after"));
    client.close();
    client = null;
    first.stop();
    ArborProcess.deleteDataDir(dataDir);
  }

  @Test
  void helpExitsZeroAndListsStandalone() {
    ArborProcess help = ArborProcess.launchCommand("help", "--help");
    try {
      assertThat(help.waitFor(CLI_TIMEOUT)).as("--help must exit").isTrue();
      String out = help.output();
      assertThat(help.process().exitValue()).as("--help exit code\n%s", out).isZero();
      assertThat(out).contains("standalone");
    } finally {
      help.close();
    }
  }

  @Test
  void standaloneHelpListsItsOptions() {
    ArborProcess sub = ArborProcess.launchCommand("help-standalone", "standalone", "--help");
    try {
      assertThat(sub.waitFor(CLI_TIMEOUT)).as("standalone --help must exit").isTrue();
      String out = sub.output();
      assertThat(sub.process().exitValue()).as("standalone --help exit code\n%s", out).isZero();
      assertThat(out).contains("--data-dir", "--grpc-host", "--grpc-port", "--http-port");
    } finally {
      sub.close();
    }
  }

  private static BanyanDBClient connect(ArborProcess p) throws Exception {
    BanyanDBClient c = new BanyanDBClient(p.grpcTarget());
    c.connect();
    return c;
  }
}
