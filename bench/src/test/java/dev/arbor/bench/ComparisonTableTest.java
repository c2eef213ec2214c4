package dev.arbor.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.bench.ComparisonTable.Better;
import dev.arbor.bench.ComparisonTable.Cell;
import java.util.List;
import org.junit.jupiter.api.Test;

class ComparisonTableTest {

  private static Cell n(double v) {
    return Cell.of(v, x -> String.format("%,.0f", x));
  }

  @Test
  void aColumnPerBuildThenTheRatioOfTheLaterToTheFirstThenExtras() {
    String md = new ComparisonTable("ops/s", Better.HIGHER, List.of("clients"),
        List.of("old", "new"), List.of("ceiling"))
        .add(List.of("64"), List.of(n(8000), n(12000)), List.of("20,000"))
        .add(List.of("1"), List.of(Cell.missing("–"), n(2000)), List.of("–"))
        .toMarkdown();
    assertThat(md).startsWith("**ops/s** (higher is better: a ratio above 1 favours the later"
        + " build)\n\n");
    assertThat(md).contains("| clients | old | new | new/old | ceiling |\n"
        + "|---|---:|---:|---:|---:|\n"
        + "| 64 | 8,000 | 12,000 | 1.50 | 20,000 |\n"
        + "| 1 | – | 2,000 | – | – |\n");
  }

  @Test
  void threeBuildsGetARatioEachAgainstTheFirst() {
    String md = new ComparisonTable("p99 ms", Better.LOWER, List.of("clients"),
        List.of("a", "b", "c"))
        .add(List.of("8"), List.of(n(4), n(2), n(8))).toMarkdown();
    assertThat(md).contains("lower is better")
        .contains("| clients | a | b | c | b/a | c/a |")
        .contains("| 8 | 4 | 2 | 8 | 0.50 | 2.00 |");
  }

  @Test
  void checksAndSingleBuildsHaveNoRatio() {
    assertThat(new ComparisonTable("checks", Better.NONE, List.of("scenario"), List.of("a", "b"))
        .add(List.of("full"), List.of(Cell.text("yes"), Cell.text("yes"))).toMarkdown())
        .isEqualTo("**checks**\n\n| scenario | a | b |\n|---|---:|---:|\n| full | yes | yes |\n");
    assertThat(new ComparisonTable("ops/s", Better.HIGHER, List.of("clients"), List.of("a"))
        .add(List.of("1"), List.of(n(5))).toMarkdown())
        .isEqualTo("**ops/s**\n\n| clients | a |\n|---|---:|\n| 1 | 5 |\n");
  }

  @Test
  void aZeroBaselineHasNoRatio() {
    assertThat(ComparisonTable.ratio(n(0), n(3))).isEqualTo("–");
  }

  @Test
  void rotationStartsAtTheStepsIndex() {
    assertThat(Rotation.rotate(List.of("a", "b"), 0)).containsExactly("a", "b");
    assertThat(Rotation.rotate(List.of("a", "b"), 1)).containsExactly("b", "a");
    assertThat(Rotation.rotate(List.of("a", "b", "c"), 4)).containsExactly("b", "c", "a");
  }
}
