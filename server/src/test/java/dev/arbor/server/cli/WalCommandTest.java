package dev.arbor.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.model.v1.Str;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.model.v1.TagValue;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardWrite;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code arbor wal inspect|salvage} on a real data directory whose log a crash left behind, then
 * damaged in the middle: inspect names the damage and says the node will not start, salvage
 * keeps the frames before it, and the store opens again with exactly those writes.
 */
class WalCommandTest {
  @TempDir Path tmp;

  private static CliRun run(String... args) {
    return CliRun.arbor(args);
  }

  private static PropertyRecord record(int i) {
    EntityKey key = new EntityKey("g", "n", "k" + i);
    byte[] source = Property.newBuilder()
        .setMetadata(Metadata.newBuilder().setGroup("g").setName("n").setCreateRevision(100 + i).setModRevision(100 + i))
        .setId(key.id())
        .addTags(Tag.newBuilder().setKey("t").setValue(
            TagValue.newBuilder().setStr(Str.newBuilder().setValue("y".repeat(200)))))
        .build()
        .toByteArray();
    return PropertyRecord.live(key, 100 + i, 100 + i, source);
  }

  /** A data directory as kill -9 leaves it: six writes, each its own frame, only in the log. */
  private Path crashedDataDir() throws IOException {
    Path live = tmp.resolve("live");
    Path crashed = tmp.resolve("crashed");
    try (PropertyStore store = PropertyStore.open(live, g -> true)) {
      for (int i = 0; i < 6; i++) {
        store.applyIfNewer(List.of(new ShardWrite("g", 0, record(i))));
      }
      try (Stream<Path> walk = Files.walk(live)) {
        for (Path p : walk.toList()) {
          Path t = crashed.resolve(live.relativize(p).toString());
          if (Files.isDirectory(p)) {
            Files.createDirectories(t);
          } else if (!p.getFileName().toString().equals("write.lock")) {
            Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
          }
        }
      }
    }
    return crashed;
  }

  private static Path segmentWithFrames(Path dataDir) throws IOException {
    try (Stream<Path> s = Files.list(dataDir.resolve("wal"))) {
      return s.filter(p -> p.getFileName().toString().startsWith("wal-"))
          .max((a, b) -> Long.compare(a.toFile().length(), b.toFile().length()))
          .orElseThrow();
    }
  }

  private static void flipByte(Path file, long at) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, at);
      b.put(0, (byte) (b.get(0) ^ 0x01)).rewind();
      ch.write(b, at);
    }
  }

  @Test
  void inspectShowsMidLogDamageSalvageKeepsTheFramesBeforeItAndTheNodeStarts() throws IOException {
    Path dir = crashedDataDir();
    Path seg = segmentWithFrames(dir);
    String name = seg.getFileName().toString();

    CliRun clean = run("wal", "inspect", "--data-dir", dir.toString());
    assertThat(clean.exit()).as(clean.err()).isZero();
    assertThat(clean.out()).contains(name + "  format 2  6 frame(s)").contains("intact")
        .contains("the node will start");

    flipByte(seg, Files.size(seg) / 2); // inside a frame with frames after it
    CliRun damaged = run("wal", "inspect", "--data-dir", dir.toString());
    assertThat(damaged.exit()).isEqualTo(1);
    assertThat(damaged.out()).containsPattern(name + "  format 2  [0-5] frame\\(s\\)  \\d+ bytes \\(\\d+ good\\)  "
        + "damaged at byte \\d+: frame checksum mismatch; a valid frame follows at byte \\d+");
    assertThat(damaged.out()).contains("the node will not start: write-ahead log segment " + seg)
        .contains("arbor wal salvage --data-dir");
    assertThat(damaged.err()).isEmpty();
    int kept = Integer.parseInt(damaged.out().replaceAll("(?s).*" + name + "  format 2  (\\d) frame.*", "$1"));

    CliRun salvage = run("wal", "salvage", "--data-dir", dir.toString());
    assertThat(salvage.exit()).as(salvage.err()).isZero();
    assertThat(salvage.out()).containsPattern(name + ": kept " + kept + " frame\\(s\\) \\(\\d+ bytes\\), dropped \\d+ bytes "
        + "from byte \\d+ \\(frame checksum mismatch; valid frames followed at byte \\d+\\); original in "
        + "wal/salvaged-\\d{8}T\\d{6}Z/" + name);

    assertThat(run("wal", "inspect", "--data-dir", dir.toString()).out()).contains("all intact");
    assertThat(run("wal", "salvage", "--data-dir", dir.toString()).out()).startsWith("nothing to salvage");
    try (PropertyStore store = PropertyStore.open(dir, g -> true)) {
      for (int i = 0; i < 6; i++) {
        PropertyRecord r = record(i);
        assertThat(store.latest("g", 0, r.key())).as("k%d", i).isEqualTo(i < kept ? r : null);
      }
    }
  }

  @Test
  void salvageWhileTheServerHoldsTheDataDirectoryIsOneLineError() throws IOException {
    Path dir = tmp.resolve("node");
    try (PropertyStore store = PropertyStore.open(dir, g -> true)) {
      CliRun r = run("wal", "salvage", "--data-dir", dir.toString());
      assertThat(r.exit()).isEqualTo(1);
      assertThat(r.err()).startsWith("error: data directory ").contains("is in use by");
      assertThat(r.err().strip()).doesNotContain("\n").doesNotContain("Exception");
    }
  }

  @Test
  void missingLogIsOneLineError() {
    CliRun r = run("wal", "inspect", "--data-dir", tmp.resolve("nothing").toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).startsWith("error: ").contains("no write-ahead log in");
    assertThat(r.err().strip()).doesNotContain("\n");
  }

  @Test
  void helpListsEveryFlag() {
    assertThat(run("wal", "--help").out()).contains("inspect").contains("salvage");
    assertThat(run("wal", "inspect", "--help").out()).contains("--data-dir").contains("--help");
    assertThat(run("wal", "salvage", "--help").out()).contains("--data-dir").contains("salvaged-<time>");
    assertThat(run("wal").exit()).isEqualTo(2);
  }
}
