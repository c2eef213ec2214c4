package dev.arbor.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.database.v1.Property;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import dev.arbor.api.banyandb.database.v1.TagType;
import dev.arbor.api.metadata.v1.MetadataSnapshot;
import dev.arbor.metadata.EmbeddedMetadataStore;
import dev.arbor.property.HybridClock;
import dev.arbor.repair.tree.BuildState;
import dev.arbor.repair.tree.CorruptTreeException;
import dev.arbor.repair.tree.TreeFileReader;
import dev.arbor.repair.tree.TreeFileWriter;
import dev.arbor.repair.tree.TreeFuzzHooks;
import dev.arbor.repair.tree.TreeHeader;
import dev.arbor.repair.tree.TreeLeaf;
import dev.arbor.storage.format.FileFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tree files, {@code meta/metadata.bin} and {@code state.json}, each written by the real code (and,
 * for tree files and state.json, also in format 1 as the build of 2648c27 wrote them: the fixture
 * {@code data-2648c27}), mutated and opened again. An open either succeeds with the original data (raw damage is always
 * caught by a checksum) or fails with the documented error: {@link CorruptTreeException} for tree
 * files and state.json, an IOException naming the file for metadata.bin. Structured inputs
 * re-compute the checksums after the mutation so the checks behind them are reached too; those
 * may open with other data, but never with another exception.
 */
class TreeAndMetaFileFuzzTest {
  private static final int CI_INPUTS = 10_000;

  @TempDir Path tmp;
  private Scratch scratch;
  private Path dir;

  @BeforeEach
  void scratch() throws IOException {
    scratch = Scratch.in(tmp);
    dir = scratch.dir();
  }

  @AfterEach
  void cleanUp() throws IOException {
    scratch.close();
  }

  // ---------------------------------------------------------------------------------------------
  // Tree files

  @Test
  void treeFiles() throws Exception {
    String target = "tree-files";
    int planned = Fuzz.iterations(CI_INPUTS);
    Random rnd = Fuzz.random(target);
    Mutator m = new Mutator(rnd);
    Fuzz.Run run = new Fuzz.Run(target);
    Path file = dir.resolve("tree.bin");
    List<TreeLeaf> leaves = writeTree(file, rnd);
    byte[] original = Files.readAllBytes(file);
    Path work = dir.resolve("work-tree.bin");
    // Format 1, as the build of 2648c27 wrote it: still read, so still fuzzed (raw damage only).
    byte[] legacy = fixture("data-2648c27/repair/ui/shard-1/tree.bin");
    Files.write(work, legacy);
    List<TreeLeaf> legacyLeaves = readTree(work);
    int clean = 0;
    try (Bounded bounded = new Bounded()) {
      for (int i = 0; i < planned; i++) {
        boolean old = rnd.nextInt(4) == 0;
        boolean resealed = !old && rnd.nextInt(3) == 0;
        byte[] damaged = old ? m.mutate(legacy, null)
            : resealed && rnd.nextBoolean() ? slotFieldMutation(original, m) : m.mutate(original, null);
        if (resealed) {
          resealTree(damaged);
        }
        Files.write(work, damaged);
        Bounded.Outcome<List<TreeLeaf>> out = bounded.run(() -> readTree(work), damaged);
        run.tried();
        if (out.error() != null) {
          assertThat(out.error()).as("tree input #%d (format 1 %s, resealed %s)", i, old, resealed)
              .isInstanceOf(CorruptTreeException.class);
          continue;
        }
        clean++;
        if (!resealed || Arrays.equals(damaged, original)) {
          assertThat(out.value()).as("tree input #%d opened, so it reads what was written", i)
              .usingElementComparator((a, b) -> Arrays.equals(a.entityUtf8(), b.entityUtf8())
                  && Arrays.equals(a.sha(), b.sha()) ? 0 : 1)
              .containsExactlyElementsOf(old ? legacyLeaves : leaves);
        }
      }
    }
    System.out.printf("[fuzz] %s opened=%d%n", target, clean);
    run.finish(planned);
  }

  private static List<TreeLeaf> readTree(Path file) throws IOException {
    List<TreeLeaf> out = new ArrayList<>();
    try (TreeFileReader r = TreeFileReader.open(file)) {
      r.verifyAll();
      for (int s = 0; s < r.slots().size(); s++) {
        try (TreeFileReader.LeafIterator it = r.leaves(s)) {
          while (it.hasNext()) {
            out.add(it.next());
          }
        } catch (java.io.UncheckedIOException e) {
          throw e.getCause();
        }
      }
    }
    return out;
  }

  private static List<TreeLeaf> writeTree(Path file, Random rnd) throws IOException {
    int slots = 4;
    List<TreeLeaf> leaves = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      byte[] sha = new byte[64];
      rnd.nextBytes(sha);
      leaves.add(new TreeLeaf(String.format("g/n/id-%03d", i).getBytes(StandardCharsets.UTF_8), sha));
    }
    // The writer wants each slot's leaves in entity order; slot = index mod 4 keeps that.
    try (TreeFileWriter w = new TreeFileWriter(file.resolveSibling("spill"), slots)) {
      for (TreeLeaf l : leaves) {
        w.add(l.entityUtf8(), l.sha());
      }
      w.finish(file, new TreeHeader("g", 0, slots, 7, 1_700_000_000_000L));
    }
    List<TreeLeaf> bySlot = new ArrayList<>();
    try (TreeFileReader r = TreeFileReader.open(file)) {
      for (int s = 0; s < slots; s++) {
        Iterator<TreeLeaf> it = r.leaves(s);
        it.forEachRemaining(bySlot::add);
      }
    }
    return bySlot;
  }

  /** A boundary number over one field (index, offset, length, count, checksum) of one slot record. */
  private static byte[] slotFieldMutation(byte[] original, Mutator m) {
    byte[] b = original.clone();
    ByteBuffer f = ByteBuffer.wrap(b, b.length - TreeFuzzHooks.FOOTER_SIZE, TreeFuzzHooks.FOOTER_SIZE).slice();
    int slots = f.getInt(8);
    int record = (int) f.getLong(0) + m.random().nextInt(slots) * TreeFuzzHooks.SLOT_RECORD_SIZE;
    ByteBuffer w = ByteBuffer.wrap(b);
    switch (m.random().nextInt(5)) {
      case 0 -> w.putInt(record, m.boundaryInt());
      case 1 -> w.putLong(record + 4, m.boundaryLong());
      case 2 -> w.putLong(record + 12, m.boundaryLong());
      case 3 -> w.putInt(record + 20, m.boundaryInt());
      default -> w.putInt(record + 24, m.boundaryInt());
    }
    return b;
  }

  /** Re-computes the header, slot-table and footer checksums where the (mutated) layout allows. */
  private static void resealTree(byte[] b) {
    int footerSize = TreeFuzzHooks.FOOTER_SIZE;
    int start = TreeFuzzHooks.TREE_HEADER_START;
    if (b.length >= start) {
      // The shared header: its checksum covers everything before it.
      CRC32C crc = new CRC32C();
      crc.update(b, 0, start - 4);
      ByteBuffer.wrap(b).putInt(start - 4, (int) crc.getValue());
    }
    if (b.length >= start + 24) {
      int groupLen = ByteBuffer.wrap(b).getInt(start + 20);
      if (groupLen >= 0 && start + 28L + groupLen + 4 <= b.length) {
        CRC32C crc = new CRC32C();
        crc.update(b, start, 28 + groupLen);
        ByteBuffer.wrap(b).putInt(start + 28 + groupLen, (int) crc.getValue());
      }
    }
    if (b.length < footerSize) {
      return;
    }
    ByteBuffer f = ByteBuffer.wrap(b, b.length - footerSize, footerSize).slice();
    long slotsOffset = f.getLong(0);
    int slotCount = f.getInt(8);
    long len = (long) slotCount * TreeFuzzHooks.SLOT_RECORD_SIZE;
    if (slotCount > 0 && slotsOffset >= 0 && slotsOffset + len == b.length - footerSize) {
      CRC32C crc = new CRC32C();
      crc.update(b, (int) slotsOffset, (int) len);
      f.putInt(footerSize - 12, (int) crc.getValue());
    }
    CRC32C crc = new CRC32C();
    crc.update(b, b.length - footerSize, footerSize - 8);
    f.putInt(footerSize - 8, (int) crc.getValue());
  }

  /** A file of a committed fixture data directory (written by an older build). */
  static byte[] fixture(String path) throws IOException {
    try (java.io.InputStream in = TreeAndMetaFileFuzzTest.class.getResourceAsStream("/fixtures/" + path)) {
      if (in == null) {
        throw new java.io.FileNotFoundException("fixture " + path);
      }
      return in.readAllBytes();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // metadata.bin

  @Test
  void metadataFile() throws Exception {
    String target = "metadata-bin";
    int planned = Fuzz.iterations(CI_INPUTS);
    Random rnd = Fuzz.random(target);
    Mutator m = new Mutator(rnd);
    ProtoMutator pm = new ProtoMutator(m);
    Fuzz.Run run = new Fuzz.Run(target);
    Path meta = dir.resolve("meta");
    EmbeddedMetadataStore store = EmbeddedMetadataStore.open(meta, HybridClock.system());
    for (String g : List.of("g1", "g2")) {
      store.createGroup(Group.newBuilder().setMetadata(Metadata.newBuilder().setName(g))
          .setCatalog(Catalog.CATALOG_PROPERTY).setResourceOpts(ResourceOpts.newBuilder().setShardNum(2)).build());
      store.createSchema(Property.newBuilder().setMetadata(Metadata.newBuilder().setGroup(g).setName("s"))
          .addTags(TagSpec.newBuilder().setName("k").setType(TagType.TAG_TYPE_STRING)).build());
    }
    List<Group> groups = store.groups();
    List<Property> schemas = store.schemas("g1");
    byte[] original = Files.readAllBytes(meta.resolve("metadata.bin"));
    MetadataSnapshot snapshot = MetadataSnapshot.parseFrom(
        FileFormat.unseal(original, "metadata.bin", "metadata", 2, 2).body());
    Path work = dir.resolve("work-meta");
    Files.createDirectories(work);
    int clean = 0;
    try (Bounded bounded = new Bounded()) {
      for (int i = 0; i < planned; i++) {
        boolean resealed = rnd.nextInt(3) == 0;
        byte[] damaged;
        if (resealed) {
          byte[] body = rnd.nextBoolean() ? pm.structured(snapshot).toByteArray()
              : m.mutate(snapshot.toByteArray(), null);
          damaged = FileFormat.seal("metadata", 2, body);
        } else {
          damaged = m.mutate(original, null);
        }
        Files.write(work.resolve("metadata.bin"), damaged);
        Bounded.Outcome<EmbeddedMetadataStore> out =
            bounded.run(() -> EmbeddedMetadataStore.open(work, HybridClock.system()), damaged);
        run.tried();
        if (out.error() != null) {
          assertThat(out.error()).as("metadata input #%d (resealed %s)", i, resealed).isInstanceOf(IOException.class);
          assertThat(out.error().getMessage()).as("the error names the file").contains("metadata.bin");
          continue;
        }
        clean++;
        if (!resealed) {
          assertThat(out.value().groups()).as("metadata input #%d opened, so it reads what was written", i)
              .isEqualTo(groups);
          assertThat(out.value().schemas("g1")).isEqualTo(schemas);
        }
      }
    }
    System.out.printf("[fuzz] %s opened=%d%n", target, clean);
    run.finish(planned);
  }

  // ---------------------------------------------------------------------------------------------
  // state.json

  @Test
  void buildStateFile() throws Exception {
    String target = "state-json";
    int planned = Fuzz.iterations(CI_INPUTS);
    Random rnd = Fuzz.random(target);
    Mutator m = new Mutator(rnd);
    Fuzz.Run run = new Fuzz.Run(target);
    Path file = dir.resolve("state.json");
    BuildState state = new BuildState(1, "g", 3, 64, 12, "2026-01-02T03:04:05Z", 40, "ab".repeat(32));
    TreeFuzzHooks.writeState(file, state);
    byte[] original = Files.readAllBytes(file);
    byte[] json = FileFormat.unseal(original, "state.json", TreeFuzzHooks.STATE_KIND, TreeFuzzHooks.STATE_FORMAT,
        TreeFuzzHooks.STATE_FORMAT).body();
    // Format 1 (no envelope), as the build of 2648c27 wrote it.
    byte[] legacy = fixture("data-2648c27/repair/ui/shard-1/state.json");
    String[] values = {"null", "-1", "1e999", "9223372036854775808", "\"x\"", "[]", "{}", "true", "\"\\u0000\"",
        "\"" + "z".repeat(5000) + "\"", "1.5", "-0", "2147483648", "\"../..\""};
    int clean = 0;
    try (Bounded bounded = new Bounded()) {
      for (int i = 0; i < planned; i++) {
        byte[] damaged;
        int kind = rnd.nextInt(4);
        if (kind <= 1) {
          // Structured: one field's value replaced by a value of another type or range, sealed again
          // (or, for format 1, written as it is).
          byte[] base = kind == 0 ? json : legacy;
          String text = new String(base, StandardCharsets.UTF_8);
          String[] fields = {"format", "group", "shard", "slotCount", "snapshotId", "builtAt", "leafCount", "root"};
          String f = fields[rnd.nextInt(fields.length)];
          damaged = text.replaceFirst("(\"" + f + "\"\\s*:\\s*)(\"[^\"]*\"|[^,}\\s]+)",
              "$1" + java.util.regex.Matcher.quoteReplacement(values[rnd.nextInt(values.length)]))
              .getBytes(StandardCharsets.UTF_8);
          if (rnd.nextBoolean()) {
            damaged = m.mutate(damaged, base);
          }
          if (kind == 0) {
            damaged = FileFormat.seal(TreeFuzzHooks.STATE_KIND, TreeFuzzHooks.STATE_FORMAT, damaged);
          }
        } else {
          damaged = m.mutate(kind == 2 ? original : legacy, null);
        }
        Files.write(file, damaged);
        Bounded.Outcome<Optional<BuildState>> out = bounded.run(() -> TreeFuzzHooks.readState(file), damaged);
        run.tried();
        if (out.error() != null) {
          assertThat(out.error()).as("state.json input #%d: %s", i, Fuzz.abbreviate(new String(damaged,
              StandardCharsets.UTF_8))).isInstanceOf(CorruptTreeException.class);
          continue;
        }
        clean++;
        if (kind == 2) {
          assertThat(out.value()).as("state.json input #%d: raw damage is caught by the checksum", i).contains(state);
        }
        BuildState s = out.value().orElseThrow();
        assertThat(s.format()).isEqualTo(BuildState.FORMAT);
        assertThat(s.group()).isNotNull();
        assertThat(s.root()).isNotNull();
      }
    }
    System.out.printf("[fuzz] %s opened=%d%n", target, clean);
    run.finish(planned);
  }

}
