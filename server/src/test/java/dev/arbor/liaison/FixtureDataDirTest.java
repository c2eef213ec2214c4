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
 * rewritten in the new one at the next metadata change. Tree files are read as they are.
 */
class FixtureDataDirTest {
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
