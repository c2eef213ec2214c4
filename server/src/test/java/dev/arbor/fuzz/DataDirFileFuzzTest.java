package dev.arbor.fuzz;

import static dev.arbor.fuzz.TreeAndMetaFileFuzzTest.fixture;
import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.metadata.MetadataRevision;
import dev.arbor.metadata.RevisionGuard;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.repair.coverage.CoverageWatermark;
import dev.arbor.repair.coverage.WatermarkStore;
import dev.arbor.repair.handoff.LastAlive;
import dev.arbor.storage.IncarnationFileAccess;
import dev.arbor.storage.Quarantine;
import dev.arbor.storage.QuarantineEntry;
import dev.arbor.storage.QuarantineHooks;
import dev.arbor.storage.format.FileFormat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The small files of a data directory: the group incarnation file, coverage watermarks, last-alive,
 * metadata-revision and a quarantine entry's description. Each target mutates three kinds of input:
 * the file as today's code writes it (raw damage: every change must be caught, so a read gives the
 * original or the documented refusal), the same file with its body mutated and sealed again (the
 * checks behind the checksum), and the file of format 1 as the build of 2648c27 wrote it (fixture
 * {@code data-2648c27}). Besides never throwing anything undocumented, each target checks the
 * safe side its file promises: damage never invents a coverage watermark (an early purge), never
 * reads as "never written" for last-alive (no fence), never clears the metadata alarm.
 */
class DataDirFileFuzzTest {
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

  /** Which input a target tries next. */
  private enum Input { RAW, RESEALED, FORMAT_1 }

  /** Mutated bytes of one input and what they were made from. */
  private record Mutated(Input kind, byte[] bytes) {}

  /** Half raw damage of today's file, a quarter resealed bodies, a quarter format 1. */
  private static Mutated next(Random rnd, Mutator m, byte[] sealed, String kind, int version, byte[] legacy)
      throws IOException {
    int r = rnd.nextInt(4);
    if (r <= 1) {
      return new Mutated(Input.RAW, m.mutate(sealed, null));
    }
    if (r == 2) {
      byte[] body = FileFormat.unseal(sealed, "f", kind, version, version).body();
      return new Mutated(Input.RESEALED, FileFormat.seal(kind, version, m.mutate(body, null)));
    }
    return new Mutated(Input.FORMAT_1, m.mutate(legacy, null));
  }

  /** Runs {@code planned} inputs of one target. */
  private interface Check {
    void input(int i) throws Exception;
  }

  private static void campaign(String target, Check check) throws Exception {
    int planned = Fuzz.iterations(CI_INPUTS);
    Fuzz.Run run = new Fuzz.Run(target);
    for (int i = 0; i < planned; i++) {
      check.input(i);
      run.tried();
    }
    run.finish(planned);
  }

  private static <T> Bounded.Outcome<T> open(Bounded bounded, Callable<T> call, byte[] input) throws Exception {
    return bounded.run(call, input);
  }

  @Test
  void incarnationFile() throws Exception {
    String target = "incarnation-file";
    Random rnd = Fuzz.random(target);
    Mutator m = new Mutator(rnd);
    Path group = Files.createDirectories(dir.resolve("g"));
    GroupIncarnation inc = GroupIncarnation.random();
    IncarnationFileAccess.write(group, inc);
    byte[] sealed = Files.readAllBytes(group.resolve("incarnation"));
    byte[] legacy = fixture("data-2648c27/data/ui/incarnation");
    GroupIncarnation legacyInc = GroupIncarnation.fromBytes(Arrays.copyOfRange(legacy, 12, 28));
    try (Bounded bounded = new Bounded()) {
      campaign(target, i -> {
        Mutated in = next(rnd, m, sealed, IncarnationFileAccess.KIND, IncarnationFileAccess.FORMAT, legacy);
        Files.write(group.resolve("incarnation"), in.bytes());
        Bounded.Outcome<Optional<GroupIncarnation>> out = open(bounded, () -> IncarnationFileAccess.read(group),
            in.bytes());
        if (out.error() != null) {
          assertThat(out.error()).as("incarnation input #%d (%s)", i, in.kind()).isInstanceOf(IOException.class)
              .hasMessageContaining(group.resolve("incarnation").toString());
          return;
        }
        assertThat(out.value()).as("incarnation input #%d (%s) opened", i, in.kind()).isPresent();
        if (in.kind() == Input.RAW) {
          assertThat(out.value()).as("raw damage is caught, input #%d", i).contains(inc);
        } else if (in.kind() == Input.FORMAT_1) {
          assertThat(out.value()).as("format 1 has a checksum too, input #%d", i).contains(legacyInc);
        }
      });
    }
  }

  @Test
  void coverageWatermarks() throws Exception {
    String target = "coverage-watermarks";
    Random rnd = Fuzz.random(target);
    Mutator m = new Mutator(rnd);
    Path file = dir.resolve("watermarks.txt");
    CoverageWatermark w0 = new CoverageWatermark(2_000_000, "n1-2000000", List.of("n1", "n,2", "n%3"));
    CoverageWatermark w1 = new CoverageWatermark(3_000_000, "n2-3000000", List.of("n2", "n1"));
    WatermarkStore written = WatermarkStore.open(file);
    written.record("g", 0, w0);
    written.record("g", 1, w1);
    byte[] sealed = Files.readAllBytes(file);
    byte[] legacy = fixture("data-2648c27/coverage/watermarks.txt");
    WatermarkStore legacyMarks = WatermarkStore.open(writeTo(dir.resolve("legacy.txt"), legacy));
    try (Bounded bounded = new Bounded()) {
      campaign(target, i -> {
        Mutated in = next(rnd, m, sealed, "coverage-watermarks", 2, legacy);
        Files.write(file, in.bytes());
        Bounded.Outcome<WatermarkStore> out = open(bounded, () -> WatermarkStore.open(file), in.bytes());
        assertThat(out.error()).as("watermarks input #%d (%s): damage means none, never a failure", i, in.kind())
            .isNull();
        WatermarkStore s = out.value();
        if (in.kind() == Input.RAW) {
          // A watermark out of damaged bytes could allow an early purge: all as written, or none.
          if (s.get("g", 0).isPresent() || s.get("g", 1).isPresent()) {
            assertThat(s.get("g", 0)).as("input #%d", i).contains(w0);
            assertThat(s.get("g", 1)).as("input #%d", i).contains(w1);
          }
        } else if (in.kind() == Input.FORMAT_1) {
          for (int shard = 0; shard < 2; shard++) {
            if (s.get("ui", shard).isPresent()) {
              assertThat(s.get("ui", shard)).as("input #%d", i).isEqualTo(legacyMarks.get("ui", shard));
            }
          }
        }
      });
    }
  }

  @Test
  void lastAlive() throws Exception {
    String target = "last-alive";
    Random rnd = Fuzz.random(target);
    Mutator m = new Mutator(rnd);
    Path file = dir.resolve("last-alive");
    Instant at = Instant.ofEpochMilli(1_796_628_745_983L);
    new LastAlive(file).write(at);
    byte[] sealed = Files.readAllBytes(file);
    byte[] legacy = fixture("data-2648c27/last-alive");
    Instant legacyAt = new LastAlive(writeTo(dir.resolve("legacy"), legacy)).read().orElseThrow();
    try (Bounded bounded = new Bounded()) {
      campaign(target, i -> {
        Mutated in = next(rnd, m, sealed, "last-alive", 2, legacy);
        Files.write(file, in.bytes());
        Bounded.Outcome<Optional<Instant>> out = open(bounded, () -> new LastAlive(file).read(), in.bytes());
        if (out.error() != null) {
          assertThat(out.error()).as("last-alive input #%d (%s)", i, in.kind()).isInstanceOf(IOException.class)
              .hasMessageContaining(file.toString());
          return;
        }
        // Empty would mean "never written": no fence. Damage must never read so.
        assertThat(out.value()).as("last-alive input #%d (%s)", i, in.kind()).isPresent();
        if (in.kind() == Input.RAW) {
          assertThat(out.value()).as("input #%d", i).contains(at);
        } else if (in.kind() == Input.FORMAT_1) {
          assertThat(out.value()).as("input #%d", i).contains(legacyAt);
        }
      });
    }
  }

  @Test
  void metadataRevision() throws Exception {
    String target = "metadata-revision";
    Random rnd = Fuzz.random(target);
    Mutator m = new Mutator(rnd);
    long cluster = 0x1234_5678_9abc_def0L;
    RevisionGuard.open(dir).observe(new MetadataRevision(cluster, 500));
    Path file = dir.resolve(RevisionGuard.FILE);
    byte[] sealed = Files.readAllBytes(file);
    byte[] legacy = fixture("data-2648c27/metadata-revision");
    try (Bounded bounded = new Bounded()) {
      campaign(target, i -> {
        Mutated in = next(rnd, m, sealed, "metadata-revision", 2, legacy);
        Files.write(file, in.bytes());
        Bounded.Outcome<RevisionGuard> out = open(bounded, () -> RevisionGuard.open(dir), in.bytes());
        assertThat(out.error()).as("metadata-revision input #%d (%s): damage raises the alarm, never a failure", i,
            in.kind()).isNull();
        RevisionGuard g = out.value();
        if (in.kind() == Input.RAW && g.alarm().isEmpty()) {
          // Read as written: the same cluster going back must raise the alarm.
          g.observe(new MetadataRevision(cluster, 499));
          assertThat(g.alarm()).as("raw damage is caught, input #%d", i).isPresent();
        } else if (in.kind() == Input.RAW) {
          assertThat(g.alarm().get()).as("input #%d", i).contains(file.toString());
        }
      });
    }
  }

  @Test
  void quarantineEntry() throws Exception {
    String target = "quarantine-entry";
    Random rnd = Fuzz.random(target);
    Mutator m = new Mutator(rnd);
    Path data = Files.createDirectories(dir.resolve("node/data/g/shard-0"));
    Files.writeString(data.resolve("segments_1"), "x");
    Quarantine q = new Quarantine(dir.resolve("node"));
    Instant at = Instant.parse("2026-01-02T03:04:05Z");
    GroupIncarnation inc = GroupIncarnation.random();
    QuarantineEntry written = QuarantineHooks.admit(q, "g", inc, at);
    Path info = written.dir().resolve(Quarantine.INFO);
    byte[] sealed = Files.readAllBytes(info);
    byte[] legacy = fixture(
        "data-2648c27/quarantine/gone-cd6ddc0c7520cbd7f578868bf31155ff-20261207T073219193Z/quarantined.properties");
    try (Bounded bounded = new Bounded()) {
      campaign(target, i -> {
        Mutated in = next(rnd, m, sealed, "quarantine-entry", 2, legacy);
        Files.write(info, in.bytes());
        Bounded.Outcome<List<QuarantineEntry>> out = open(bounded, q::list, in.bytes());
        assertThat(out.error()).as("quarantine input #%d (%s): an unreadable entry is skipped", i, in.kind())
            .isNull();
        if (in.kind() == Input.RAW && !out.value().isEmpty()) {
          assertThat(out.value()).as("raw damage is caught, input #%d", i).containsExactly(written);
        }
        assertThat(written.dir().resolve("data/shard-0/segments_1")).as("the data stays").exists();
      });
    }
  }

  private static Path writeTo(Path p, byte[] bytes) throws IOException {
    Files.write(p, bytes);
    return p;
  }
}
