package dev.arbor.observability.trace;

import static dev.arbor.observability.trace.Spans.agoNanos;
import static dev.arbor.observability.trace.Spans.nanos;
import static dev.arbor.observability.trace.Spans.span;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.arbor.storage.StorageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SpanStore} over a real on-disk Lucene index. */
class SpanStoreTest {
  private static final Duration RETENTION = Duration.ofDays(3);

  @TempDir Path dir;

  @Test
  void spansSurviveCloseAndReopen() {
    RepairSpan root = new RepairSpan("ui_1_n1_1", "n1_1", "", "n1", "propagation from current node",
        agoNanos(Duration.ofMinutes(5)), agoNanos(Duration.ofMinutes(4)), false, "", 0, "ui", 1,
        Map.of("operate_type", "select_node", "nodes_count", "3"));
    RepairSpan failed = new RepairSpan("ui_1_n1_1", "n1_2", "n1_1", "n1", "sync properties",
        agoNanos(Duration.ofMinutes(4)), agoNanos(Duration.ofMinutes(3)), true, "peer n2 unavailable", 1,
        "ui", 1, Map.of("target_node", "n2"));
    try (SpanStore store = new SpanStore(dir, RETENTION)) {
      store.record(failed);
      store.record(root);
    }
    try (SpanStore reopened = new SpanStore(dir, RETENTION)) {
      assertThat(reopened.query(SpanQuery.all(10))).containsExactly(root, failed);
    }
  }

  @Test
  void flusherCommitsWithoutClose() throws IOException {
    try (SpanStore store = new SpanStore(dir, RETENTION)) {
      store.record(span("t", "s1", "n1", "ui", agoNanos(Duration.ofSeconds(1))));
      // A reader of the last commit sees the span: it would survive a crash now.
      await().atMost(Duration.ofSeconds(10)).until(() -> committedDocs() == 1);
      assertThat(store.storedCount()).isEqualTo(1);
      assertThat(store.recordedCount()).isEqualTo(1);
    }
  }

  @Test
  void purgeDeletesOnlySpansOlderThanTheRetention() {
    try (SpanStore store = new SpanStore(dir, RETENTION)) {
      RepairSpan old = span("t1", "old", "n1", "ui", agoNanos(Duration.ofDays(4)));
      RepairSpan recent = span("t2", "recent", "n1", "ui", agoNanos(Duration.ofDays(2)));
      RepairSpan fresh = span("t3", "fresh", "n1", "ui", agoNanos(Duration.ofMinutes(1)));
      store.record(old);
      store.record(recent);
      store.record(fresh);
      store.flush();

      assertThat(store.purgeExpired()).isEqualTo(1);
      assertThat(store.purgedCount()).isEqualTo(1);
      assertThat(store.query(SpanQuery.all(10))).containsExactly(recent, fresh);
    }
  }

  @Test
  void openingPurgesWhatExpiredWhileClosed() throws IOException {
    Instant t0 = Instant.parse("2026-01-10T12:00:00Z");
    try (SpanStore store = store(t0)) {
      store.record(span("t1", "two-days", "n1", "ui", nanos(t0.minus(Duration.ofDays(2)))));
      store.record(span("t2", "one-hour", "n1", "ui", nanos(t0.minus(Duration.ofHours(1)))));
    }
    assertThat(committedDocs()).isEqualTo(2);

    // Two days later the first span is four days old.
    try (SpanStore later = store(t0.plus(Duration.ofDays(2)))) {
      assertThat(committedDocs()).isEqualTo(1);
      assertThat(later.query(SpanQuery.all(10))).extracting(RepairSpan::spanId).containsExactly("one-hour");
    }
  }

  @Test
  void queryNeverReturnsExpiredSpansBeforeThePurge() {
    Instant t0 = Instant.parse("2026-01-10T12:00:00Z");
    try (SpanStore store = store(t0)) {
      store.record(span("t1", "expired", "n1", "ui", nanos(t0.minus(Duration.ofDays(5)))));
      store.record(span("t2", "kept", "n1", "ui", nanos(t0.minus(Duration.ofDays(1)))));
      assertThat(store.query(SpanQuery.all(10))).extracting(RepairSpan::spanId).containsExactly("kept");
    }
  }

  @Test
  void fullBufferDropsAndCountsWithoutBlocking() {
    // A flusher that never wakes by itself: the buffer fills up.
    SpanStoreSettings settings =
        new SpanStoreSettings(RETENTION, 4, Duration.ofHours(1), 1000, Duration.ofHours(1));
    try (SpanStore store = new SpanStore(dir, settings, Clock.systemUTC())) {
      for (int i = 0; i < 10; i++) {
        store.record(span("t", "s" + i, "n1", "ui", agoNanos(Duration.ofSeconds(10 - i))));
      }
      assertThat(store.recordedCount()).isEqualTo(10);
      assertThat(store.droppedCount()).isEqualTo(6);
      assertThat(store.bufferedCount()).isEqualTo(4);

      // Buffered spans are part of the answer.
      assertThat(store.query(SpanQuery.all(100))).extracting(RepairSpan::spanId)
          .containsExactly("s0", "s1", "s2", "s3");
      assertThat(store.storedCount()).isEqualTo(4);
    }
  }

  @Test
  void fullBatchIsWrittenBeforeTheInterval() {
    SpanStoreSettings settings =
        new SpanStoreSettings(RETENTION, 100, Duration.ofHours(1), 3, Duration.ofHours(1));
    try (SpanStore store = new SpanStore(dir, settings, Clock.systemUTC())) {
      for (int i = 0; i < 3; i++) {
        store.record(span("t", "s" + i, "n1", "ui", agoNanos(Duration.ofSeconds(10 - i))));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> store.storedCount() == 3);
    }
  }

  @Test
  void recordAfterCloseIsDroppedNotThrown() {
    SpanStore store = new SpanStore(dir, RETENTION);
    store.close();
    store.record(span("t", "late", "n1", "ui", agoNanos(Duration.ofSeconds(1))));
    store.record(null);
    assertThat(store.droppedCount()).isEqualTo(1);
    store.close();
  }

  @Test
  void queryFiltersByGroupTraceAndSinceAndSortsByStart() {
    long base = agoNanos(Duration.ofHours(1));
    RepairSpan a = span("t1", "a", "n1", "ui", base + 3_000);
    RepairSpan b = span("t1", "b", "n2", "ui", base + 1_000);
    RepairSpan c = span("t2", "c", "n1", "metrics", base + 2_000);
    RepairSpan d = span("t3", "d", "n3", "ui", base + 4_000);
    try (SpanStore store = new SpanStore(dir, RETENTION)) {
      List.of(a, b, c, d).forEach(store::record);

      assertThat(ids(store, SpanQuery.all(10))).containsExactly("b", "c", "a", "d");
      assertThat(ids(store, new SpanQuery("ui", 0, null, 10))).containsExactly("b", "a", "d");
      assertThat(ids(store, new SpanQuery(null, 0, "t1", 10))).containsExactly("b", "a");
      assertThat(ids(store, new SpanQuery("metrics", 0, "t1", 10))).isEmpty();
      assertThat(ids(store, new SpanQuery(null, base + 2_000, null, 10))).containsExactly("c", "a", "d");
      assertThat(ids(store, new SpanQuery("", 0, " ", 2))).containsExactly("b", "c");
    }
  }

  @Test
  void corruptIndexFailsNamingTheDirectoryAndTheRemedy() throws IOException {
    Path traces = dir.resolve("traces");
    Files.createDirectories(traces);
    Files.write(traces.resolve("segments_1"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});

    assertThatThrownBy(() -> new SpanStore(traces, RETENTION))
        .isInstanceOf(StorageException.class)
        .hasMessageContaining("cannot open the trace store at " + traces)
        .hasMessageContaining("delete the directory " + traces);
  }

  @Test
  void secondStoreOnTheSameDirectoryIsRefused() {
    try (SpanStore first = new SpanStore(dir, RETENTION)) {
      assertThatThrownBy(() -> new SpanStore(dir, RETENTION))
          .isInstanceOf(StorageException.class)
          .hasMessageContaining(dir.toString())
          .hasMessageContaining("locked");
    }
  }

  private SpanStore store(Instant now) {
    return new SpanStore(dir, SpanStoreSettings.withRetention(RETENTION), Clock.fixed(now, ZoneOffset.UTC));
  }

  private int committedDocs() throws IOException {
    try (FSDirectory fs = FSDirectory.open(dir);
        DirectoryReader reader = DirectoryReader.open(fs)) {
      return reader.numDocs();
    }
  }

  private static List<String> ids(SpanStore store, SpanQuery q) {
    return store.query(q).stream().map(RepairSpan::spanId).toList();
  }
}
