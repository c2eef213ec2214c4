package dev.arbor.liaison;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.util.Timestamps;
import dev.arbor.api.banyandb.common.v1.Span;
import dev.arbor.api.banyandb.common.v1.Tag;
import java.util.List;

/** Reading and checking the spans of a query trace in tests. */
final class TraceSpans {
  private TraceSpans() {}

  /** The value of tag {@code key}; fails when the span lacks it. */
  static String tag(Span s, String key) {
    return s.getTagsList().stream().filter(t -> t.getKey().equals(key)).map(Tag::getValue).findFirst()
        .orElseThrow(() -> new AssertionError("span '" + s.getMessage() + "' has no tag " + key + ": " + s.getTagsList()));
  }

  static int intTag(Span s, String key) {
    return Integer.parseInt(tag(s, key));
  }

  static List<Span> childrenStartingWith(Span s, String prefix) {
    return s.getChildrenList().stream().filter(c -> c.getMessage().startsWith(prefix)).toList();
  }

  /** Each child's duration fits in its parent's. */
  static void eachChildWithinDuration(Span parent) {
    for (Span c : parent.getChildrenList()) {
      assertThat(c.getDuration()).as("duration of '%s' within '%s'", c.getMessage(), parent.getMessage())
          .isBetween(0L, parent.getDuration());
    }
  }

  /** The children's durations together fit in the parent's: they ran one after the other within it. */
  static void sequentialChildrenWithinDuration(Span parent) {
    eachChildWithinDuration(parent);
    long sum = parent.getChildrenList().stream().mapToLong(Span::getDuration).sum();
    assertThat(sum).as("children of '%s' together", parent.getMessage()).isLessThanOrEqualTo(parent.getDuration());
  }

  /** Each child starts and ends within its parent's times (spans timed on one node's clock). */
  static void childrenWithinTimes(Span parent) {
    for (Span c : parent.getChildrenList()) {
      assertThat(Timestamps.compare(c.getStartTime(), parent.getStartTime())).as("'%s' starts within", c.getMessage())
          .isGreaterThanOrEqualTo(0);
      assertThat(Timestamps.compare(c.getEndTime(), parent.getEndTime())).as("'%s' ends within", c.getMessage())
          .isLessThanOrEqualTo(0);
      assertThat(Timestamps.compare(c.getStartTime(), c.getEndTime())).isLessThanOrEqualTo(0);
    }
  }
}
