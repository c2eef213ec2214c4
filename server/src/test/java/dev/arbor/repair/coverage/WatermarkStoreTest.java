package dev.arbor.repair.coverage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.storage.format.FileFormat;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WatermarkStoreTest {
  /** Format 1, as the build of 2648c27 wrote it (fixtures/data-2648c27/coverage/watermarks.txt). */
  private static final String FORMAT_1 = "arbor-coverage-watermarks 1\n"
      + "ui\t0\t1796628727630075885\tdata-1-1796628727630075885\tdata-2,data-1\n"
      + "ui\t1\t1796628727744832497\tdata-1-1796628727744832497\tdata-2,data-1\n"
      + "crc32 b9926bff\n";

  @TempDir Path dir;

  @Test
  void roundTripsKeepsTheLatestRoundAndForgetsDroppedGroups() throws Exception {
    Path f = dir.resolve("coverage").resolve("watermarks.txt");
    WatermarkStore s = WatermarkStore.open(f);
    assertThat(s.get("g", 0)).as("missing file: no watermark").isEmpty();
    CoverageWatermark w = new CoverageWatermark(2_000, "n1-2000", List.of("n,1", "n\t2", "n%3"));
    assertThat(s.record("g", 0, w)).isTrue();
    assertThat(s.record("g", 0, new CoverageWatermark(1_000, "older", List.of("n1")))).isFalse();
    assertThat(s.record("h", 7, new CoverageWatermark(5, "r", List.of("a", "b")))).isTrue();
    assertThat(FileFormat.unseal(Files.readAllBytes(f), "w", WatermarkStore.KIND, 2, 2).version())
        .as("written in the shared format").isEqualTo(WatermarkStore.FORMAT);

    WatermarkStore again = WatermarkStore.open(f);
    assertThat(again.get("g", 0)).contains(w);
    assertThat(again.get("h", 7)).isPresent();
    again.dropGroup("g");
    assertThat(WatermarkStore.open(f).get("g", 0)).isEmpty();
    assertThat(WatermarkStore.open(f).get("h", 7)).isPresent();
  }

  @Test
  void formatOneIsReadAndRewrittenInFormatTwoOnTheNextChange() throws Exception {
    Path f = dir.resolve("watermarks.txt");
    Files.writeString(f, FORMAT_1, StandardCharsets.UTF_8);
    WatermarkStore s = WatermarkStore.open(f);
    assertThat(s.get("ui", 0)).contains(
        new CoverageWatermark(1796628727630075885L, "data-1-1796628727630075885", List.of("data-2", "data-1")));
    assertThat(s.get("ui", 1)).isPresent();
    assertThat(Files.readString(f)).as("reading changes nothing").isEqualTo(FORMAT_1);

    s.record("ui", 0, new CoverageWatermark(1796628727630075886L, "later", List.of("data-2", "data-1")));
    assertThat(FileFormat.startsWithMagic(Files.readAllBytes(f))).isTrue();
    WatermarkStore again = WatermarkStore.open(f);
    assertThat(again.get("ui", 0).orElseThrow().roundId()).isEqualTo("later");
    assertThat(again.get("ui", 1)).as("kept across the rewrite").isEqualTo(s.get("ui", 1));
  }

  /** A watermark read from damaged bytes could allow an early purge: damage gives none, never a failure. */
  @Test
  void aDamagedFileMeansNoWatermarkNeverAFailure() throws Exception {
    Path f = dir.resolve("watermarks.txt");
    WatermarkStore.open(f).record("g", 0, new CoverageWatermark(2_000, "r", List.of("a", "b")));
    byte[] good = Files.readAllBytes(f);
    byte[] flipped = good.clone();
    flipped[good.length / 2] ^= 0x10;
    byte[] resealedAsOtherKind = FileFormat.seal("last-alive", WatermarkStore.FORMAT,
        FileFormat.unseal(good, "w", WatermarkStore.KIND, 2, 2).body());
    List<byte[]> damaged = List.of(new byte[0], "garbage".getBytes(StandardCharsets.UTF_8),
        Arrays.copyOf(good, good.length / 2), Arrays.copyOf(good, good.length - 1), flipped, resealedAsOtherKind,
        FORMAT_1.replace("2,data-1", "2,data-3").getBytes(StandardCharsets.UTF_8),
        FORMAT_1.replace("arbor-coverage-watermarks 1", "other 1").getBytes(StandardCharsets.UTF_8),
        new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
    for (byte[] bad : damaged) {
      Files.write(f, bad);
      assertThat(WatermarkStore.open(f).get("g", 0)).as("%s", new String(bad, StandardCharsets.UTF_8)).isEmpty();
      assertThat(WatermarkStore.open(f).get("ui", 0)).isEmpty();
    }
    WatermarkStore s = WatermarkStore.open(f);
    // and it is rewritten whole on the next record
    assertThat(s.record("g", 0, new CoverageWatermark(3_000, "r2", List.of("a", "b")))).isTrue();
    assertThat(WatermarkStore.open(f).get("g", 0)).isPresent();
  }
}
