package dev.arbor.repair.tree;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The append-only journal (format 3) on its own: each checkpoint appends what was written since
 * the previous one, the file is compacted once the blocks outweigh the state, a torn tail is cut
 * off while a bad block in the middle is refused, and format 2 is still read.
 */
class LiveJournalBlocksTest {
  private static final int SLOTS = 8;
  private static final long COMPACT_AT = 16 * 1024;

  @TempDir Path dir;
  private LiveTree tree;
  private LiveJournalWriter writer;
  /** Every leaf written since the checkpoint: entity → sha ({@link LiveTree#REMOVED} = removed). */
  private final Map<ByteBuffer, byte[]> written = new LinkedHashMap<>();
  private final Map<ByteBuffer, byte[]> current = new LinkedHashMap<>();
  private long segment = 1;

  @BeforeEach
  void open() throws Exception {
    ServedTree cp = new ServedTree(new RepairTrees(dir, null, SLOTS).emptySummary("g", 0, 0, 0), null);
    tree = new LiveTree(cp);
    writer = new LiveJournalWriter(dir, SLOTS, COMPACT_AT);
    writer.writeWhole(tree.capture(segment), this::publish);
  }

  @AfterEach
  void close() {
    writer.close();
    tree.close();
  }

  private boolean publish(Path tmp) throws java.io.IOException {
    LiveJournal.publish(tmp);
    return true;
  }

  private void write(Random rnd, int n) {
    for (int i = 0; i < n; i++) {
      byte[] entity = ("n\u0000k" + rnd.nextInt(3_000)).getBytes(StandardCharsets.UTF_8);
      ByteBuffer key = ByteBuffer.wrap(entity);
      byte[] before = current.get(key);
      byte[] after = before != null && rnd.nextInt(4) == 0 ? null : sha(rnd);
      tree.apply(entity, before, after);
      if (after == null) {
        current.remove(key);
      } else {
        current.put(key, after);
      }
      written.put(key, after == null ? LiveTree.REMOVED : after);
    }
  }

  private static byte[] sha(Random rnd) {
    byte[] s = new byte[32];
    rnd.nextBytes(s);
    return s;
  }

  /** Appends what was written since the last capture; returns the block's length. */
  private long checkpoint() throws Exception {
    long before = writer.fileBytes();
    writer.append(tree.captureDelta(++segment));
    long appended = writer.fileBytes() - before;
    if (writer.shouldCompact()) {
      writer.compact(this::publish);
    }
    return appended;
  }

  private LiveJournal.Read readBack() throws Exception {
    return LiveJournal.read(dir, SLOTS).orElseThrow();
  }

  private void assertIsTheLiveState(LiveJournal j, String when) {
    TreeSummary s = tree.summary();
    assertThat(j.walSegment()).as(when).isEqualTo(segment);
    for (int i = 0; i < SLOTS; i++) {
      assertThat(j.slotHashes()[i]).as("%s: slot %d hash", when, i).isEqualTo(s.slots().get(i).hash());
      assertThat(j.leafCounts()[i]).as("%s: slot %d count", when, i).isEqualTo(s.slots().get(i).leafCount());
    }
    Map<ByteBuffer, byte[]> got = new LinkedHashMap<>();
    j.written().forEach(m -> m.forEach((k, v) -> got.put(ByteBuffer.wrap(k), v)));
    assertThat(got).as("%s: leaves written since the checkpoint", when).hasSameSizeAs(written);
    written.forEach((k, v) -> assertThat(got.get(k)).as("%s: %s", when, k).isEqualTo(v));
  }

  @Test
  void eachCheckpointAppendsWhatWasWrittenSinceThePreviousOneAndCompactionBoundsTheFile() throws Exception {
    long seed = Long.getLong("arbor.test.seed", System.nanoTime());
    System.out.println("[LiveJournalBlocksTest] seed=" + seed + " (replay with -Darbor.test.seed=" + seed + ")");
    Random rnd = new Random(seed);
    long compactions = 0;
    for (int round = 0; round < 60; round++) {
      long compactedBefore = writer.compactions();
      write(rnd, rnd.nextInt(4) == 0 ? 0 : 1 + rnd.nextInt(200));
      long appended = checkpoint();
      compactions += writer.compactions() - compactedBefore;
      if (appended > 0 && written.size() > 1_000) {
        // The block holds only this round's leaves: far less than the leaves written since the build.
        assertThat(appended).as("round %d: block of a checkpoint", round).isLessThan(written.size() * 40L);
      }
      LiveJournal.Read r = readBack();
      assertThat(r.tornBytes()).isZero();
      assertIsTheLiveState(r.journal(), "round " + round);
      long whole = r.journal().encode().length;
      assertThat(Files.size(dir.resolve(LiveJournal.FILE))).as("round %d: file size", round)
          .isLessThanOrEqualTo(Math.max(COMPACT_AT, 2 * whole) + appended);
    }
    assertThat(compactions).as("compactions").isPositive();
  }

  @Test
  void aCheckpointWithoutWritesAppendsABlockOfConstantSize() throws Exception {
    Random rnd = new Random(7);
    write(rnd, 2_000);
    checkpoint();
    long empty = checkpoint();
    assertThat(empty).as("no leaves, no slots: header, type and segment only").isEqualTo(
        LiveJournal.BLOCK_HEADER + 1 + 8 + 4 + 8);
    assertIsTheLiveState(readBack().journal(), "after an empty checkpoint");
  }

  /** Four blocks: the whole state and three deltas; returns the file and the offsets where each block starts. */
  private List<Integer> fourBlocks(Random rnd, List<LiveJournal> states) throws Exception {
    states.add(readBack().journal());
    for (int i = 0; i < 3; i++) {
      write(rnd, 30);
      checkpoint();
      states.add(readBack().journal());
    }
    byte[] all = Files.readAllBytes(dir.resolve(LiveJournal.FILE));
    List<Integer> starts = new ArrayList<>();
    int at = dev.arbor.storage.format.FileFormat.headerLength(LiveJournal.KIND);
    while (at < all.length) {
      starts.add(at);
      at += LiveJournal.BLOCK_HEADER + ByteBuffer.wrap(all, at, 4).getInt();
    }
    assertThat(starts).hasSize(4);
    return starts;
  }

  private static void assertSameState(LiveJournal a, LiveJournal b) {
    assertThat(a.walSegment()).isEqualTo(b.walSegment());
    assertThat(a.leafCounts()).isEqualTo(b.leafCounts());
    assertThat(Arrays.deepEquals(a.slotHashes(), b.slotHashes())).isTrue();
  }

  @Test
  void aTornTailIsCutOffAtTheLastWholeBlock() throws Exception {
    List<LiveJournal> states = new ArrayList<>();
    List<Integer> starts = fourBlocks(new Random(11), states);
    Path file = dir.resolve(LiveJournal.FILE);
    byte[] all = Files.readAllBytes(file);
    int last = starts.get(3);
    // Cut anywhere inside the last block, including inside its length field.
    for (int cut : new int[] {last + 2, last + LiveJournal.BLOCK_HEADER + 5, all.length - 1}) {
      LiveJournal.Read r = LiveJournal.decode(Arrays.copyOf(all, cut), "cut", SLOTS);
      assertThat(r.blocks()).as("cut at %d", cut).isEqualTo(3);
      assertThat(r.tornBytes()).isEqualTo(cut - last);
      assertSameState(r.journal(), states.get(2));
    }
    // The last block whole in length but with bytes that never reached the disk.
    byte[] flipped = all.clone();
    flipped[all.length - 3] ^= 0x40;
    LiveJournal.Read r = LiveJournal.decode(flipped, "flipped", SLOTS);
    assertThat(r.blocks()).isEqualTo(3);
    assertSameState(r.journal(), states.get(2));
    // The file grown by zeros (an append whose size reached the disk but not its data).
    r = LiveJournal.decode(Arrays.copyOf(all, all.length + 4096), "zeros", SLOTS);
    assertThat(r.blocks()).isEqualTo(4);
    assertThat(r.tornBytes()).isEqualTo(4096);
    assertSameState(r.journal(), states.get(3));
  }

  @Test
  void aBadBlockFollowedByMoreIsRefusedAndSoIsABadFirstBlock() throws Exception {
    List<Integer> starts = fourBlocks(new Random(13), new ArrayList<>());
    byte[] all = Files.readAllBytes(dir.resolve(LiveJournal.FILE));
    byte[] middle = all.clone();
    middle[starts.get(1) + LiveJournal.BLOCK_HEADER + 3] ^= 0x01;
    assertThatThrownBy(() -> LiveJournal.decode(middle, "middle", SLOTS))
        .isInstanceOf(CorruptTreeException.class).hasMessageContaining("more blocks follow");
    byte[] first = all.clone();
    first[starts.get(0) + LiveJournal.BLOCK_HEADER + 20] ^= 0x01;
    assertThatThrownBy(() -> LiveJournal.decode(first, "first", SLOTS)).isInstanceOf(CorruptTreeException.class);
    assertThatThrownBy(() -> LiveJournal.decode(Arrays.copyOf(all, starts.get(1) - 1), "short", SLOTS))
        .isInstanceOf(CorruptTreeException.class).hasMessageContaining("first block");
    byte[] header = all.clone();
    header[6] ^= 0x01;
    assertThatThrownBy(() -> LiveJournal.decode(header, "header", SLOTS)).isInstanceOf(CorruptTreeException.class);
  }

  @Test
  void formatTwoIsStillRead() throws Exception {
    write(new Random(17), 300);
    LiveJournal now = tree.capture(++segment);
    LiveJournal.Read r = LiveJournal.decode(now.encodeVersion2(), "v2", SLOTS);
    assertThat(r.version()).isEqualTo(LiveJournal.VERSION_WHOLE);
    assertIsTheLiveState(r.journal(), "format 2");
  }
}
