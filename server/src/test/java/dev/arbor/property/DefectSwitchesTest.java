package dev.arbor.property;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The defect switches are a test-only value: NONE by default, and no production source switches a
 * defect on (each switch's own test, named in docs/testing.md "Defect switches", shows it works).
 */
class DefectSwitchesTest {
  @Test
  void noneIsTheDefaultAndOfNamesExactlyTheDefectsGiven() {
    assertThat(DefectSwitches.of()).isSameAs(DefectSwitches.NONE);
    assertThat(DefectSwitches.NONE.on()).isEmpty();
    DefectSwitches one = DefectSwitches.of(Defect.QUERY_NO_REFILL);
    assertThat(one.has(Defect.QUERY_NO_REFILL)).isTrue();
    assertThat(one.has(Defect.ORPHAN_SERVES)).isFalse();
    assertThat(one).isEqualTo(DefectSwitches.of(Defect.QUERY_NO_REFILL)).isNotEqualTo(DefectSwitches.NONE);
    assertThat(one.toString()).contains("QUERY_NO_REFILL");
  }

  @Test
  void noProductionSourceSwitchesADefectOn() throws IOException {
    Path main = Path.of("src/main/java");
    assertThat(main).as("run from the server module").isDirectory();
    List<Path> offenders;
    try (Stream<Path> files = Files.walk(main)) {
      offenders = files.filter(f -> f.toString().endsWith(".java")).filter(f -> {
        try {
          return Files.readString(f).contains("DefectSwitches.of(");
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).toList();
    }
    assertThat(offenders).isEmpty();
  }

  @Test
  void noContentTieBreakDropsOnlyTheLastRuleOfTheOrder() {
    EntityKey k = new EntityKey("g", "t", "k");
    PropertyRecord a = PropertyRecord.live(k, 100, 1, new byte[] {1});
    PropertyRecord b = PropertyRecord.live(k, 100, 1, new byte[] {2});
    assertThat(LastWriteWins.order(DefectSwitches.NONE)).isSameAs(LastWriteWins.ORDER);
    assertThat(LastWriteWins.ORDER.compare(a, b)).isNotZero();
    var defective = LastWriteWins.order(DefectSwitches.of(Defect.NO_CONTENT_TIE_BREAK));
    assertThat(defective.compare(a, b)).isZero();
    assertThat(LastWriteWins.beats(a, b, defective) || LastWriteWins.beats(b, a, defective)).isFalse();
    PropertyRecord newer = PropertyRecord.live(k, 101, 1, new byte[] {0});
    assertThat(LastWriteWins.beats(newer, a, defective)).isTrue();
  }
}
