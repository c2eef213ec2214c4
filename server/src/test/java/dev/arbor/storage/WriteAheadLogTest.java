package dev.arbor.storage;

import static dev.arbor.storage.StorageTestSupport.copyTree;
import static dev.arbor.storage.StorageTestSupport.payloads;
import static dev.arbor.storage.StorageTestSupport.walSegments;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WriteAheadLogTest {
  private static final int HEADER = 8;
  private static final int SEGMENT_HEADER = WalSegments.header().length;

  @TempDir Path tmp;

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static List<byte[]> randomPayloads(int n, Random rnd) {
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      byte[] b = new byte[rnd.nextInt(4) == 0 ? 0 : 1 + rnd.nextInt(3000)];
      rnd.nextBytes(b);
      out.add(b);
    }
    return out;
  }

  private static void assertSamePayloads(List<byte[]> actual, List<byte[]> expected, String desc) {
    assertThat(actual).as(desc).hasSize(expected.size());
    for (int i = 0; i < expected.size(); i++) {
      assertThat(actual.get(i)).as("%s: payload %d", desc, i).isEqualTo(expected.get(i));
    }
  }

  /** Writes the payloads to a fresh log in {@code dir}, durably, and closes it. */
  private static void writeAndClose(Path dir, List<byte[]> payloads) throws IOException {
    WriteAheadLog.Recovered rec = WriteAheadLog.open(dir);
    try (WriteAheadLog wal = rec.log()) {
      long pos = 0;
      for (byte[] p : payloads) {
        pos = wal.append(p);
      }
      wal.awaitDurable(pos);
    }
  }

  /** The single segment holding frames (the log opens a fresh segment, only a header, each time). */
  private static Path dataSegment(Path dir) throws IOException {
    List<Path> nonEmpty = new ArrayList<>();
    for (Path p : walSegments(dir)) {
      if (Files.size(p) > SEGMENT_HEADER) {
        nonEmpty.add(p);
      }
    }
    assertThat(nonEmpty).hasSize(1);
    return nonEmpty.get(0);
  }

  private static long frameBytes(List<byte[]> payloads) {
    return payloads.stream().mapToLong(p -> HEADER + p.length).sum();
  }

  @Test
  void appendedPayloadsAreRecoveredInOrder() throws IOException {
    long seed = System.nanoTime();
    List<byte[]> written = randomPayloads(60, new Random(seed));
    Path dir = tmp.resolve("wal");

    WriteAheadLog.Recovered first = WriteAheadLog.open(dir);
    assertThat(payloads(first)).isEmpty();
    assertThat(first.segments()).isEmpty();
    try (WriteAheadLog wal = first.log()) {
      long last = 0;
      for (byte[] p : written) {
        long pos = wal.append(p);
        assertThat(pos).as("positions grow").isGreaterThan(last);
        last = pos;
      }
      wal.awaitDurable(last);
      assertThat(wal.writtenBytes()).isEqualTo(frameBytes(written)).isEqualTo(last);
    }

    WriteAheadLog.Recovered again = WriteAheadLog.open(dir);
    try (WriteAheadLog ignored = again.log()) {
      assertSamePayloads(payloads(again), written, "seed=" + seed);
      assertThat(again.segments()).hasSize(1);
    }
  }

  @Test
  void durableFramesSurviveWithoutClose() throws IOException {
    Path dir = tmp.resolve("wal");
    List<byte[]> written = List.of(utf8("one"), utf8("two"), utf8("three"));
    WriteAheadLog wal = WriteAheadLog.open(dir).log();
    try {
      long pos = 0;
      for (byte[] p : written) {
        pos = wal.append(p);
        wal.awaitDurable(pos);
      }
      // "crash": copy the directory while the log is still open
      Path copy = tmp.resolve("copy");
      copyTree(dir, copy);
      WriteAheadLog.Recovered rec = WriteAheadLog.open(copy);
      try (WriteAheadLog ignored = rec.log()) {
        assertSamePayloads(payloads(rec), written, "copy of an open log");
      }
    } finally {
      wal.close();
    }
  }

  @Test
  void recoveryAppendsAfterRecoveredFramesInANewSegment() throws IOException {
    Path dir = tmp.resolve("wal");
    writeAndClose(dir, List.of(utf8("a"), utf8("b")));
    writeAndClose(dir, List.of(utf8("c")));

    WriteAheadLog.Recovered rec = WriteAheadLog.open(dir);
    try (WriteAheadLog ignored = rec.log()) {
      assertSamePayloads(payloads(rec), List.of(utf8("a"), utf8("b"), utf8("c")), "two sessions");
    }
  }

  @Test
  void truncatedLastFrameIsDroppedAndTheFileTruncated() throws IOException {
    long seed = System.nanoTime();
    List<byte[]> written = new ArrayList<>(randomPayloads(5, new Random(seed)));
    written.set(4, new byte[100]); // make sure the last frame has a payload to tear
    Path dir = tmp.resolve("wal");
    writeAndClose(dir, written);
    Path seg = dataSegment(dir);
    long intact = SEGMENT_HEADER + frameBytes(written.subList(0, 4));
    try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
      ch.truncate(Files.size(seg) - 3);
    }

    WriteAheadLog.Recovered rec = WriteAheadLog.open(dir);
    try (WriteAheadLog ignored = rec.log()) {
      assertSamePayloads(payloads(rec), written.subList(0, 4), "seed=" + seed);
    }
    assertThat(Files.size(seg)).as("torn tail truncated away").isEqualTo(intact);
  }

  @Test
  void tornHeaderIsDropped() throws IOException {
    Path dir = tmp.resolve("wal");
    List<byte[]> written = List.of(utf8("first"), utf8("second"));
    writeAndClose(dir, written);
    Path seg = dataSegment(dir);
    Files.write(seg, new byte[] {7, 0, 0}, StandardOpenOption.APPEND); // 3 bytes of a header

    WriteAheadLog.Recovered rec = WriteAheadLog.open(dir);
    try (WriteAheadLog ignored = rec.log()) {
      assertSamePayloads(payloads(rec), written, "torn header");
    }
    assertThat(Files.size(seg)).isEqualTo(SEGMENT_HEADER + frameBytes(written));
  }

  @Test
  void appendedGarbageFrameWithBadChecksumIsDropped() throws IOException {
    Path dir = tmp.resolve("wal");
    List<byte[]> written = List.of(utf8("first"), utf8("second"));
    writeAndClose(dir, written);
    Path seg = dataSegment(dir);
    ByteBuffer garbage = ByteBuffer.allocate(HEADER + 4).order(ByteOrder.BIG_ENDIAN);
    garbage.putInt(4).putInt(0xDEADBEEF).put(utf8("junk"));
    Files.write(seg, garbage.array(), StandardOpenOption.APPEND);

    WriteAheadLog.Recovered rec = WriteAheadLog.open(dir);
    try (WriteAheadLog ignored = rec.log()) {
      assertSamePayloads(payloads(rec), written, "garbage frame");
    }
    assertThat(Files.size(seg)).isEqualTo(SEGMENT_HEADER + frameBytes(written));
  }

  @Test
  void absurdFrameLengthIsTreatedAsCorruption() throws IOException {
    Path dir = tmp.resolve("wal");
    List<byte[]> written = List.of(utf8("only"));
    writeAndClose(dir, written);
    Path seg = dataSegment(dir);
    ByteBuffer garbage = ByteBuffer.allocate(HEADER + 16).order(ByteOrder.BIG_ENDIAN);
    garbage.putInt(-12).putInt(0);
    Files.write(seg, garbage.array(), StandardOpenOption.APPEND);

    WriteAheadLog.Recovered rec = WriteAheadLog.open(dir);
    try (WriteAheadLog ignored = rec.log()) {
      assertSamePayloads(payloads(rec), written, "negative length");
    }
    assertThat(Files.size(seg)).isEqualTo(SEGMENT_HEADER + frameBytes(written));
  }

  @Test
  void flippedByteInLastFrameDropsOnlyThatFrameAndLaterAppendsFollowTheSurvivors() throws IOException {
    Path dir = tmp.resolve("wal");
    List<byte[]> written = List.of(utf8("alpha"), utf8("beta"), utf8("gamma-gamma"));
    writeAndClose(dir, written);
    Path seg = dataSegment(dir);
    long lastFrameStart = SEGMENT_HEADER + frameBytes(written.subList(0, 2));
    try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      long at = lastFrameStart + HEADER + 4;
      ch.read(b, at);
      b.put(0, (byte) (b.get(0) ^ 0x01)).rewind();
      ch.write(b, at);
    }

    WriteAheadLog.Recovered rec = WriteAheadLog.open(dir);
    try (WriteAheadLog wal = rec.log()) {
      assertSamePayloads(payloads(rec), written.subList(0, 2), "flipped byte");
      assertThat(Files.size(seg)).isEqualTo(lastFrameStart);
      wal.awaitDurable(wal.append(utf8("delta")));
    }

    WriteAheadLog.Recovered again = WriteAheadLog.open(dir);
    try (WriteAheadLog ignored = again.log()) {
      assertSamePayloads(payloads(again), List.of(utf8("alpha"), utf8("beta"), utf8("delta")), "after repair");
    }
  }

  @Test
  void rollAndDeleteSegmentsRemovesOldSegments() throws IOException {
    Path dir = tmp.resolve("wal");
    WriteAheadLog.Recovered rec = WriteAheadLog.open(dir);
    try (WriteAheadLog wal = rec.log()) {
      wal.awaitDurable(wal.append(utf8("a")));
      wal.awaitDurable(wal.append(utf8("b")));
      List<Path> before = walSegments(dir);
      assertThat(before).hasSize(1);

      List<Path> old = wal.roll();

      assertThat(old).containsExactlyElementsOf(before);
      wal.awaitDurable(wal.append(utf8("c")));
      List<Path> afterRoll = walSegments(dir);
      assertThat(afterRoll).hasSize(2);

      wal.deleteSegments(old);

      assertThat(walSegments(dir)).hasSize(1).doesNotContainAnyElementsOf(old);
      for (Path p : old) {
        assertThat(p).doesNotExist();
      }
      wal.awaitDurable(wal.append(utf8("d")));
    }
    WriteAheadLog.Recovered again = WriteAheadLog.open(dir);
    try (WriteAheadLog ignored = again.log()) {
      assertSamePayloads(payloads(again), List.of(utf8("c"), utf8("d")), "after delete");
    }
  }

  @Test
  void deleteSegmentsNeverDeletesTheCurrentSegment() throws IOException {
    Path dir = tmp.resolve("wal");
    try (WriteAheadLog wal = WriteAheadLog.open(dir).log()) {
      wal.awaitDurable(wal.append(utf8("x")));
      wal.deleteSegments(walSegments(dir));
      wal.awaitDurable(wal.append(utf8("y")));
    }
    WriteAheadLog.Recovered again = WriteAheadLog.open(dir);
    try (WriteAheadLog ignored = again.log()) {
      assertSamePayloads(payloads(again), List.of(utf8("x"), utf8("y")), "current segment kept");
    }
  }

  @Test
  void concurrentAppendersShareFsyncsAndAllRecover() throws Exception {
    int threads = 16;
    int perThread = 200;
    Path dir = tmp.resolve("wal");
    long syncs;
    WriteAheadLog wal = WriteAheadLog.open(dir).log();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        fs.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < perThread; i++) {
            wal.awaitDurable(wal.append(utf8(thread + ":" + i)));
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : fs) {
        f.get(60, TimeUnit.SECONDS);
      }
      syncs = wal.syncCount();
    } finally {
      pool.shutdownNow();
      wal.close();
    }
    int appends = threads * perThread;
    assertThat(syncs).as("group commit: fsyncs for %d acknowledged appends", appends)
        .isPositive()
        .isLessThan(appends);

    WriteAheadLog.Recovered rec = WriteAheadLog.open(dir);
    try (WriteAheadLog ignored = rec.log()) {
      assertThat(payloads(rec)).hasSize(appends);
      Map<Integer, Integer> nextPerThread = new HashMap<>();
      for (byte[] p : payloads(rec)) {
        String[] parts = new String(p, StandardCharsets.UTF_8).split(":");
        int thread = Integer.parseInt(parts[0]);
        int i = Integer.parseInt(parts[1]);
        int expected = nextPerThread.getOrDefault(thread, 0);
        assertThat(i).as("thread %d appends recovered in order", thread).isEqualTo(expected);
        nextPerThread.put(thread, expected + 1);
      }
      assertThat(nextPerThread).hasSize(threads).allSatisfy((t, n) -> assertThat(n).isEqualTo(perThread));
    }
  }

  @Test
  void appendingAfterCloseThrows() throws IOException {
    WriteAheadLog wal = WriteAheadLog.open(tmp.resolve("wal")).log();
    wal.awaitDurable(wal.append(utf8("x")));
    wal.close();
    wal.close(); // idempotent

    assertThatThrownBy(() -> wal.append(utf8("y")))
        .isInstanceOf(StorageException.class)
        .hasMessageContaining("closed");
    assertThatThrownBy(wal::roll).isInstanceOf(StorageException.class);
  }
}
