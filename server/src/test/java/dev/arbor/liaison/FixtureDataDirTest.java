package dev.arbor.liaison;

import static dev.arbor.liaison.ApiTestSupport.int64;
import static dev.arbor.liaison.ApiTestSupport.str;
import static dev.arbor.liaison.ApiTestSupport.strArray;
import static dev.arbor.liaison.ApiTestSupport.tag;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceListRequest;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.metadata.MetadataGroupIncarnations;
import dev.arbor.property.HybridClock;
import dev.arbor.repair.tree.TreeFileReader;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.StoreEvents;
import dev.arbor.repair.tree.TreeHasher;
import dev.arbor.storage.format.FileFormat;
import dev.arbor.metadata.MetadataRevision;
import dev.arbor.metadata.RevisionGuard;
import dev.arbor.property.EntityKey;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.PropertyRecord;
import dev.arbor.property.ShardRouter;
import dev.arbor.repair.coverage.CoverageWatermark;
import dev.arbor.repair.coverage.WatermarkStore;
import dev.arbor.repair.handoff.LastAlive;
import dev.arbor.repair.tree.RepairTrees;
import dev.arbor.storage.GroupIncarnations;
import dev.arbor.storage.IncarnationFileAccess;
import dev.arbor.storage.Quarantine;
import dev.arbor.storage.QuarantineEntry;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A data directory written by the build of commit 95b71fe (the last before any file format
 * changed; made by {@code fixtures/make-data-95b71fe.sh}) opens with today's build and serves
 * exactly what was acknowledged: committed Lucene documents, writes left only in the WAL by
 * kill -9, deletes, metadata and repair trees. Every format change must keep this test green (or
 * migrate, and say so here).
 *
 * <p>Migrated: group incarnations. The fixture's metadata has none and its group directories no
 * {@code incarnation} file; on first open the metadata assigns each group one and the data of each
 * group adopts it (written to {@code data/<group>/incarnation}), so nothing is dropped.
 *
 * <p>Migrations: the WAL segment is of format 1 (no header, little-endian frames); it is replayed
 * by its old format and deleted by the checkpoint after recovery, so only format-2 segments (with
 * the {@link FileFormat} header) remain. {@code metadata.bin} is read by its old format and
 * rewritten in the new one at the next metadata change. Tree files and {@code state.json} are of
 * format 1 (no {@link FileFormat} header) and read as they are; the next build writes format 2.
 *
 * <p>The second fixture, {@code data-2648c27} ({@code fixtures/make-data-2648c27.sh}), is a data
 * node's directory written by the build of 2648c27, the last before the files that build added
 * moved onto the {@link FileFormat} envelope: the group incarnation file, coverage watermarks,
 * last-alive, metadata-revision, a quarantine entry, tree files and build states. Each is read by
 * its old format and written in the new one on its next write, except tree files: a tree of
 * format 1 or 2 slots its leaves by the shard's own hash, so it is deleted at load and rebuilt in
 * format 3 from the index (never compared with a format 3 tree).
 */
class FixtureDataDirTest {
  /** Group ui's incarnation in data-2648c27 (its metadata was in etcd, which the fixture lacks). */
  private static final GroupIncarnation UI_2648C27 =
      GroupIncarnation.fromBytes(HexFormat.of().parseHex("e1105d8fea689ac2e169c8acaac359b9"));
  private static final GroupIncarnation GONE_2648C27 =
      GroupIncarnation.fromBytes(HexFormat.of().parseHex("cd6ddc0c7520cbd7f578868bf31155ff"));

  @TempDir Path work;

  @Test
  void dataDirectoryOf95b71feOpensAndServesEveryAcknowledgedWrite() throws Exception {
    Path dir = copyFixture("data-95b71fe");
    verifyTreeFiles(dir);

    try (ApiTestSupport.Fixture api = ApiTestSupport.Fixture.start(dir)) {
      assertThat(api.groups.list(GroupRegistryServiceListRequest.getDefaultInstance()).getGroupList())
          .extracting(g -> g.getMetadata().getName() + ":" + g.getResourceOpts().getShardNum())
          .containsExactlyInAnyOrder("ui:2", "cfg:1");

      Map<String, List<Tag>> ui = byId(api.query(ApiTestSupport.query("template", "ui")));
      Map<String, List<Tag>> expected = new TreeMap<>();
      for (int i = 0; i < 10; i++) {
        expected.put("t" + i, List.of(tag("title", str("T" + i)), tag("version", int64(i))));
      }
      // Merged: the merge put the updated tag first, and that order is what was stored.
      expected.put("t1", List.of(tag("version", int64(100)), tag("title", str("T1"))));
      expected.remove("t2"); // deleted, committed
      expected.remove("t3");
      expected.put("t4", List.of(tag("title", str("T4-wal")), tag("version", int64(4)))); // WAL only
      expected.remove("t5"); // deleted in the WAL only
      assertThat(ui).isEqualTo(expected);

      Map<String, List<Tag>> cfg = byId(api.query(ApiTestSupport.query("rule", "cfg")));
      assertThat(cfg).isEqualTo(Map.of(
          "r1", List.of(tag("expr", str("a > 1")), tag("tags", strArray("x", "y"))),
          "r2", List.of(tag("expr", str("b < 2")))));
    }
    assertThat(dir.resolve("data/ui/incarnation")).as("migrated").exists();
    assertThat(dir.resolve("data/cfg/incarnation")).as("migrated").exists();
    try (EmbeddedMetadataStore meta = EmbeddedMetadataStore.open(dir.resolve("meta"), HybridClock.system());
        PropertyStore store = PropertyStore.open(dir, new MetadataGroupIncarnations(meta), new StoreEvents())) {
      assertThat(store.quarantinedAtOpen()).isEmpty();
      for (String g : List.of("ui", "cfg")) {
        assertThat(meta.incarnation(g)).as(g).isPresent();
        assertThat(store.incarnation(g)).as(g).isEqualTo(meta.incarnation(g));
      }
    }
    try (Stream<Path> wal = Files.list(dir.resolve("wal"))) {
      List<Path> segments = wal.toList();
      assertThat(segments).isNotEmpty().noneMatch(p -> p.getFileName().toString().equals("wal-00000000000000000006.log"));
      for (Path p : segments) {
        assertThat(FileFormat.startsWithMagic(Files.readAllBytes(p))).as("%s has the header", p).isTrue();
      }
    }
  }

  @Test
  void dataNodeDirectoryOf2648c27OpensEveryFileKindAndRewritesItInTheNewFormat() throws Exception {
    Path dir = copyFixture("data-2648c27");
    List<String> legacy = List.of("data/ui/incarnation", "coverage/watermarks.txt", "last-alive", "metadata-revision",
        "repair/ui/shard-0/tree.bin", "repair/ui/shard-0/state.json", "repair/ui/shard-1/tree.bin",
        "repair/ui/shard-1/state.json");
    for (String f : legacy) {
      assertThat(FileFormat.startsWithMagic(Files.readAllBytes(dir.resolve(f)))).as("%s is of the old format", f).isFalse();
    }
    Path quarantined = dir.resolve("quarantine/gone-cd6ddc0c7520cbd7f578868bf31155ff-20261207T073219193Z");
    assertThat(FileFormat.startsWithMagic(Files.readAllBytes(quarantined.resolve(Quarantine.INFO)))).isFalse();

    // Incarnation file: the data is ui's incarnation, so nothing is set aside and every write is there.
    GroupIncarnations catalog = new GroupIncarnations() {
      @Override
      public boolean exists(String group) {
        return group.equals("ui") || group.equals("gone");
      }

      @Override
      public Optional<GroupIncarnation> incarnation(String group) {
        return Optional.ofNullable(Map.of("ui", UI_2648C27, "gone", GONE_2648C27).get(group));
      }
    };
    try (PropertyStore store = PropertyStore.open(dir, catalog, new StoreEvents())) {
      assertThat(store.quarantinedAtOpen()).isEmpty();
      assertThat(store.incarnation("ui")).contains(UI_2648C27);
      Map<String, Boolean> live = new TreeMap<>();
      for (int i = 0; i < 6; i++) {
        EntityKey k = new EntityKey("ui", "template", "t" + i);
        PropertyRecord r = store.latest("ui", ShardRouter.shardOf(k, 2), k);
        live.put("t" + i, r != null && !r.deleted());
      }
      assertThat(live).containsExactlyEntriesOf(new TreeMap<>(Map.of(
          "t0", true, "t1", true, "t2", false, "t3", true, "t4", true, "t5", true)));

      // Trees of format 1 slot leaves by the shard's own hash: never served or compared, but
      // deleted at load and rebuilt in format 3 from the index, holding exactly its records.
      try (RepairTrees trees = new RepairTrees(dir.resolve("repair"), store, 32)) {
        trees.loadExisting(g -> true);
        assertThat(trees.pendingRebuilds()).containsExactlyInAnyOrder("ui/0", "ui/1");
        assertThat(trees.summary("ui", 0)).as("an old-format tree is not served").isEmpty();
        assertThat(dir.resolve("repair/ui/shard-0/tree.bin")).doesNotExist();
        Map<String, String> leaves = new TreeMap<>();
        for (int shard = 0; shard < 2; shard++) {
          assertThat(trees.build("ui", shard, false).outcome()).isEqualTo(dev.arbor.repair.tree.BuildResult.Outcome.BUILT);
          try (TreeFileReader r = TreeFileReader.open(dir.resolve("repair/ui/shard-" + shard + "/tree.bin"))) {
            assertThat(r.formatVersion()).isEqualTo(TreeFileReader.CURRENT_FORMAT);
            for (var slot : r.slots()) {
              try (var it = r.leaves(slot.index())) {
                while (it.hasNext()) {
                  var l = it.next();
                  assertThat(TreeHasher.slotOf(l.entityUtf8(), 32)).isEqualTo(slot.index());
                  leaves.put(l.entity(), HexFormat.of().formatHex(l.sha()));
                }
              }
            }
          }
        }
        // Every key the store holds (t2's tombstone too), each with its stored content hash.
        Map<String, String> expected = new TreeMap<>();
        for (int i = 0; i < 6; i++) {
          EntityKey k = new EntityKey("ui", "template", "t" + i);
          PropertyRecord r = store.latest("ui", ShardRouter.shardOf(k, 2), k);
          expected.put(k.entity(), HexFormat.of().formatHex(r.sha()));
        }
        assertThat(leaves).isEqualTo(expected);
      }
      try (RepairTrees trees = new RepairTrees(dir.resolve("repair"), store, 32)) {
        trees.loadExisting(g -> true);
        assertThat(trees.pendingRebuilds()).as("format 3 trees load").isEmpty();
        assertThat(trees.summary("ui", 0)).isPresent();
      }

      // Quarantine entry: listed as it was written; restoring it writes its incarnation file anew.
      List<QuarantineEntry> entries = store.quarantine().list();
      assertThat(entries).singleElement().satisfies(e -> {
        assertThat(e.group()).isEqualTo("gone");
        assertThat(e.incarnation()).contains(GONE_2648C27);
        assertThat(e.reason()).isEqualTo("the group is not in metadata at start");
        assertThat(e.at()).isEqualTo(Instant.parse("2026-12-07T07:32:19.193307181Z"));
      });
      assertThat(IncarnationFileAccess.read(quarantined.resolve("data"))).contains(GONE_2648C27);
    }
    new Quarantine(dir).restore(new Quarantine(dir).list().get(0), GONE_2648C27);
    try (PropertyStore store = PropertyStore.open(dir, catalog, new StoreEvents())) {
      assertThat(store.quarantinedAtOpen()).isEmpty();
      assertThat(store.incarnation("gone")).contains(GONE_2648C27);
    }

    // Coverage watermarks: read, then rewritten in the new format on the next change.
    Path marks = dir.resolve("coverage/watermarks.txt");
    WatermarkStore watermarks = WatermarkStore.open(marks);
    assertThat(watermarks.get("ui", 0)).contains(
        new CoverageWatermark(1796628727630075885L, "data-1-1796628727630075885", List.of("data-2", "data-1")));
    assertThat(watermarks.get("ui", 1)).contains(
        new CoverageWatermark(1796628727744832497L, "data-1-1796628727744832497", List.of("data-2", "data-1")));
    watermarks.record("ui", 0, new CoverageWatermark(1796628727630075886L, "next", List.of("data-2", "data-1")));
    assertThat(WatermarkStore.open(marks).get("ui", 1)).isEqualTo(watermarks.get("ui", 1));

    // last-alive: read, rewritten in the new format by the next write.
    LastAlive alive = new LastAlive(dir.resolve("last-alive"));
    assertThat(alive.read()).contains(Instant.ofEpochMilli(1796628745983L));
    alive.write(Instant.ofEpochMilli(1796628745984L));
    assertThat(alive.read()).contains(Instant.ofEpochMilli(1796628745984L));

    // metadata-revision: what it remembers is read: an older revision of that cluster raises the alarm.
    RevisionGuard guard = RevisionGuard.open(dir);
    assertThat(guard.alarm()).isEmpty();
    guard.observe(new MetadataRevision(Long.parseUnsignedLong("cdf818194e3a8c32", 16), 15));
    assertThat(guard.alarm()).as("the revision seen before").isEmpty();
    guard.observe(new MetadataRevision(Long.parseUnsignedLong("cdf818194e3a8c32", 16), 14));
    assertThat(guard.alarm()).hasValueSatisfying(a -> assertThat(a).contains("went back from 15 to 14"));
    assertThat(RevisionGuard.open(dir).alarm()).as("kept in the new format").isEqualTo(guard.alarm());

    for (String f : legacy) {
      // A group's incarnation file is written once; ui's stays as it is and is read so on every start.
      assertThat(FileFormat.startsWithMagic(Files.readAllBytes(dir.resolve(f)))).as("%s rewritten", f)
          .isEqualTo(!f.equals("data/ui/incarnation"));
    }
    assertThat(FileFormat.startsWithMagic(Files.readAllBytes(dir.resolve("data/gone/incarnation"))))
        .as("written by the restore").isTrue();
  }

  /** Each tree file is readable and agrees with its build state (root and leaf count). */
  private static void verifyTreeFiles(Path dir) throws IOException {
    ObjectMapper json = new ObjectMapper();
    Map<String, Long> leavesPerGroup = new TreeMap<>();
    List<Path> states;
    try (Stream<Path> s = Files.walk(dir.resolve("repair"))) {
      states = s.filter(p -> p.getFileName().toString().equals("state.json")).sorted().toList();
    }
    assertThat(states).hasSize(3);
    for (Path state : states) {
      JsonNode st = json.readTree(state.toFile());
      try (TreeFileReader r = TreeFileReader.open(state.resolveSibling("tree.bin"))) {
        assertThat(r.verifyAll()).as("%s", state).isEqualTo(st.get("leafCount").asLong());
        assertThat(TreeHasher.hex(r.root())).as("%s", state).isEqualTo(st.get("root").asText());
        assertThat(r.header().group()).isEqualTo(st.get("group").asText());
      }
      leavesPerGroup.merge(st.get("group").asText(), st.get("leafCount").asLong(), Long::sum);
    }
    // ui's trees were built before the WAL-only writes: 10 keys, tombstones included.
    assertThat(leavesPerGroup).containsEntry("ui", 10L);
  }

  private static Map<String, List<Tag>> byId(List<Property> ps) {
    return ps.stream().collect(Collectors.toMap(Property::getId, Property::getTagsList, (a, b) -> a, TreeMap::new));
  }

  private Path copyFixture(String name) throws IOException, URISyntaxException {
    Path src = Path.of(FixtureDataDirTest.class.getResource("/fixtures/" + name).toURI());
    Path dst = work.resolve(name);
    try (Stream<Path> walk = Files.walk(src)) {
      for (Path p : walk.toList()) {
        Path t = dst.resolve(src.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(t);
        } else {
          Files.copy(p, t);
        }
      }
    }
    return dst;
  }
}
