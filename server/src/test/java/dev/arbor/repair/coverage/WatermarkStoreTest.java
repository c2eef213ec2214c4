package dev.arbor.repair.coverage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WatermarkStoreTest {
  @TempDir Path dir;

  @Test
  void roundTripsKeepsTheLatestRoundAndForgetsDroppedGroups() {
    Path f = dir.resolve("coverage").resolve("watermarks.txt");
    WatermarkStore s = WatermarkStore.open(f);
    assertThat(s.get("g", 0)).as("missing file: no watermark").isEmpty();
    CoverageWatermark w = new CoverageWatermark(2_000, "n1-2000", List.of("n,1", "n\t2", "n%3"));
    assertThat(s.record("g", 0, w)).isTrue();
    assertThat(s.record("g", 0, new CoverageWatermark(1_000, "older", List.of("n1")))).isFalse();
    assertThat(s.record("h", 7, new CoverageWatermark(5, "r", List.of("a", "b")))).isTrue();

    WatermarkStore again = WatermarkStore.open(f);
    assertThat(again.get("g", 0)).contains(w);
    assertThat(again.get("h", 7)).isPresent();
    again.dropGroup("g");
    assertThat(WatermarkStore.open(f).get("g", 0)).isEmpty();
    assertThat(WatermarkStore.open(f).get("h", 7)).isPresent();
  }

  @Test
  void aDamagedFileMeansNoWatermarkNeverAFailure() throws Exception {
    Path f = dir.resolve("watermarks.txt");
    WatermarkStore.open(f).record("g", 0, new CoverageWatermark(2_000, "r", List.of("a", "b")));
    String good = Files.readString(f);
    for (String bad : List.of("", "garbage", good.substring(0, good.length() / 2),
        good.replace("2000", "2001"), good.replace(WatermarkStore.HEADER, "other 1"))) {
      Files.writeString(f, bad, StandardCharsets.UTF_8);
      assertThat(WatermarkStore.open(f).get("g", 0)).as("'%s'", bad).isEmpty();
    }
    Files.write(f, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
    WatermarkStore s = WatermarkStore.open(f);
    assertThat(s.get("g", 0)).isEmpty();
    // and it is rewritten whole on the next record
    assertThat(s.record("g", 0, new CoverageWatermark(3_000, "r2", List.of("a", "b")))).isTrue();
    assertThat(WatermarkStore.open(f).get("g", 0)).isPresent();
  }
}
