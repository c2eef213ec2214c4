package dev.arbor.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleFunction;

/**
 * One figure measured on several builds, as a markdown table: key columns (what was measured,
 * e.g. the client count), a column per build, then each later build's ratio to the first (the
 * baseline), e.g. {@code new/old}, then optional extra columns. The caption says which way is
 * better, so the ratio reads without guessing: for a higher-is-better figure a ratio above 1 means
 * the later build is better, for a lower-is-better one below 1 does.
 */
public final class ComparisonTable {

  /** Which direction of the figure is good. */
  public enum Better {
    HIGHER("higher is better: a ratio above 1 favours the later build"),
    LOWER("lower is better: a ratio below 1 favours the later build"),
    /** A check or a count, not a performance figure: no ratio column. */
    NONE("");

    private final String caption;

    Better(String caption) {
      this.caption = caption;
    }
  }

  /** One build's value: the number the ratio uses (NaN when absent) and how it is shown. */
  public record Cell(double value, String text) {
    public static Cell of(double value, DoubleFunction<String> format) {
      return Double.isNaN(value) ? missing("–") : new Cell(value, format.apply(value));
    }

    public static Cell missing(String text) {
      return new Cell(Double.NaN, text);
    }

    public static Cell text(String text) {
      return new Cell(Double.NaN, text);
    }
  }

  private record Line(List<String> keys, List<Cell> cells, List<String> extras) {}

  private final String title;
  private final Better better;
  private final List<String> keyHeaders;
  private final List<String> builds;
  private final List<String> extraHeaders;
  private final List<Line> lines = new ArrayList<>();

  public ComparisonTable(String title, Better better, List<String> keyHeaders, List<String> builds,
      List<String> extraHeaders) {
    this.title = title;
    this.better = better;
    this.keyHeaders = List.copyOf(keyHeaders);
    this.builds = List.copyOf(builds);
    this.extraHeaders = List.copyOf(extraHeaders);
  }

  public ComparisonTable(String title, Better better, List<String> keyHeaders, List<String> builds) {
    this(title, better, keyHeaders, builds, List.of());
  }

  /** Adds a row: its keys, one cell per build (in the builds' order), one text per extra column. */
  public ComparisonTable add(List<String> keys, List<Cell> cells, List<String> extras) {
    if (keys.size() != keyHeaders.size() || cells.size() != builds.size()
        || extras.size() != extraHeaders.size()) {
      throw new IllegalArgumentException("row shape differs from the header: " + keys + " "
          + cells + " " + extras);
    }
    lines.add(new Line(List.copyOf(keys), List.copyOf(cells), List.copyOf(extras)));
    return this;
  }

  public ComparisonTable add(List<String> keys, List<Cell> cells) {
    return add(keys, cells, List.of());
  }

  public boolean isEmpty() {
    return lines.isEmpty();
  }

  private boolean hasRatios() {
    return better != Better.NONE && builds.size() > 1;
  }

  /** {@code later / first}, two decimals; "–" when either is missing or the baseline is 0. */
  public static String ratio(Cell baseline, Cell later) {
    if (Double.isNaN(baseline.value()) || Double.isNaN(later.value()) || baseline.value() == 0) {
      return "–";
    }
    return String.format(Locale.ROOT, "%.2f", later.value() / baseline.value());
  }

  public String toMarkdown() {
    StringBuilder b = new StringBuilder();
    b.append("**").append(title).append("**");
    if (hasRatios()) {
      b.append(" (").append(better.caption).append(')');
    }
    b.append("\n\n|");
    List<String> align = new ArrayList<>();
    for (String k : keyHeaders) {
      b.append(' ').append(k).append(" |");
      align.add("---");
    }
    for (String build : builds) {
      b.append(' ').append(build).append(" |");
      align.add("---:");
    }
    if (hasRatios()) {
      for (int i = 1; i < builds.size(); i++) {
        b.append(' ').append(builds.get(i)).append('/').append(builds.get(0)).append(" |");
        align.add("---:");
      }
    }
    for (String e : extraHeaders) {
      b.append(' ').append(e).append(" |");
      align.add("---:");
    }
    b.append("\n|").append(String.join("|", align)).append("|\n");
    for (Line l : lines) {
      b.append('|');
      for (String k : l.keys()) {
        b.append(' ').append(k).append(" |");
      }
      for (Cell c : l.cells()) {
        b.append(' ').append(c.text()).append(" |");
      }
      if (hasRatios()) {
        for (int i = 1; i < l.cells().size(); i++) {
          b.append(' ').append(ratio(l.cells().get(0), l.cells().get(i))).append(" |");
        }
      }
      for (String e : l.extras()) {
        b.append(' ').append(e).append(" |");
      }
      b.append('\n');
    }
    return b.toString();
  }
}
