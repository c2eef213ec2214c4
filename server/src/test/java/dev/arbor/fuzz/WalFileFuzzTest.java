package dev.arbor.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.arbor.property.EntityKey;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.ShardWrite;
import dev.arbor.storage.StorageException;
import dev.arbor.storage.WalFuzzHooks;
import dev.arbor.storage.WalInspection;
import dev.arbor.storage.WalSegments;
import dev.arbor.storage.WriteAheadLog;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * WAL segments written by the real log, mutated, then opened by the real log: it either refuses
 * with its salvage message or opens and replays every frame that lies before the damage (frames
 * after it may go only when they were the torn tail of the last segment). Batch payloads are
 * fuzzed through the codec too: a bad payload is an IOException, never another exception.
 */
class WalFileFuzzTest {
  private static final String TARGET = "wal-segments";
  private static final int CI_INPUTS = 10_000;

  @TempDir Path tmp;
  private Scratch scratch;
  private Path dir;

  @BeforeEach
  void scratch() throws IOException {
    scratch = Scratch.in(tmp);
    dir = scratch.dir();
  }

  @AfterEach
  void cleanUp() throws IOException {
    scratch.close();
  }

  /** One frame as the log wrote it. */
  private record Frame(int segment, long offset, byte[] payload) {
    long end() {
      return offset + 8 + payload.length;
    }
  }

  @Test
  void damagedSegmentsRefuseOrKeepEveryFrameBeforeTheDamage() throws Exception {
    int planned = Fuzz.iterations(CI_INPUTS);
    Random rnd = Fuzz.random(TARGET);
    Mutator m = new Mutator(rnd);
    Fuzz.Run run = new Fuzz.Run(TARGET);
    Path template = dir.resolve("template/wal");
    List<byte[]> payloads = writeLog(template, rnd);
    List<Path> segments = WalSegments.list(template);
    List<byte[]> segmentBytes = new ArrayList<>();
    for (Path p : segments) {
      segmentBytes.add(Files.readAllBytes(p));
    }
    List<Frame> frames = framesOf(template, segments);
    assertThat(frames).extracting(Frame::payload).usingElementComparator(Arrays::compare)
        .as("the template replays what was written").containsExactlyElementsOf(payloads);
    Path work = dir.resolve("work/wal");
    int refused = 0;
    int opened = 0;
    try (Bounded bounded = new Bounded()) {
      for (int i = 0; i < planned; i++) {
        if (i % 4 == 0) {
          fuzzCodec(m, payloads.get(rnd.nextInt(payloads.size())), bounded);
        }
        int target = rnd.nextInt(segments.size());
        byte[] original = segmentBytes.get(target);
        byte[] damaged = m.mutate(original, segmentBytes.get(rnd.nextInt(segmentBytes.size())));
        reset(work, segments, segmentBytes, target, damaged);
        long firstDiff = firstDifference(original, damaged);
        Bounded.Outcome<List<byte[]>> out = bounded.run(() -> openAndReplay(work), damaged);
        run.tried();
        if (out.error() != null) {
          assertThat(out.error()).as("input #%d: only a refusal may fail the open", i)
              .isInstanceOf(StorageException.class);
          assertThat(out.error().getMessage()).containsAnyOf("arbor wal salvage", "newer", "format");
          refused++;
          continue;
        }
        opened++;
        List<byte[]> kept = out.value();
        List<byte[]> mustKeep = frames.stream()
            .filter(f -> f.segment() != target || f.end() <= firstDiff)
            .map(Frame::payload).toList();
        assertThat(containsInOrder(kept, mustKeep))
            .as("input #%d (segment %d damaged at byte %d): every frame before the damage is replayed, in order",
                i, target, firstDiff)
            .isTrue();
      }
    }
    System.out.printf("[fuzz] %s opened=%d refused=%d%n", TARGET, opened, refused);
    run.finish(planned);
  }

  /** A bad batch payload (CRC-valid, say from a newer build) must be an IOException. */
  private void fuzzCodec(Mutator m, byte[] payload, Bounded bounded) throws InterruptedException {
    byte[] bad = m.mutate(payload, null);
    Bounded.Outcome<List<ShardWrite>> out = bounded.run(() -> WalFuzzHooks.decode(bad), bad);
    if (out.error() != null) {
      assertThat(out.error()).as("decoding a mutated batch payload").isInstanceOf(IOException.class);
    }
  }

  private static List<byte[]> openAndReplay(Path walDir) throws IOException {
    List<byte[]> out = new ArrayList<>();
    WriteAheadLog.Recovered r = WriteAheadLog.open(walDir);
    try {
      r.replay((segment, offset, payload) -> out.add(payload));
    } finally {
      r.log().close();
    }
    // What the node would see next: the inspection agrees the log is now clean.
    assertThat(new WalInspection(walDir.getParent(), WalSegments.scanAll(walDir)).refusal()).isNull();
    return out;
  }

  /** Writes batches over three segments (two rolls), as a running node would. */
  private static List<byte[]> writeLog(Path walDir, Random rnd) throws IOException {
    List<byte[]> payloads = new ArrayList<>();
    WriteAheadLog.Recovered r = WriteAheadLog.open(walDir);
    try (WriteAheadLog log = r.log()) {
      for (int s = 0; s < 3; s++) {
        for (int b = 0; b < 4; b++) {
          List<ShardWrite> batch = new ArrayList<>();
          for (int k = 0; k <= rnd.nextInt(3); k++) {
            EntityKey key = new EntityKey("g", "n", "id-" + s + "-" + b + "-" + k);
            byte[] source = ("{\"v\":" + rnd.nextInt(1000) + "}").getBytes(StandardCharsets.UTF_8);
            batch.add(new ShardWrite("g", k, PropertyRecord.live(key, 10 + b, 10, source)));
          }
          byte[] payload = WalFuzzHooks.encode(batch);
          log.awaitDurable(log.append(payload));
          payloads.add(payload);
        }
        if (s < 2) {
          log.roll();
        }
      }
    }
    return payloads;
  }

  private static List<Frame> framesOf(Path walDir, List<Path> segments) throws IOException {
    Path copy = walDir.resolveSibling("frames-probe");
    Files.createDirectories(copy);
    for (Path p : segments) {
      Files.copy(p, copy.resolve(p.getFileName()));
    }
    List<Frame> out = new ArrayList<>();
    WriteAheadLog.Recovered r = WriteAheadLog.open(copy);
    try {
      r.replay((segment, offset, payload) -> out.add(new Frame(
          segments.indexOf(walDir.resolve(segment.path().getFileName())), offset, payload)));
    } finally {
      r.log().close();
    }
    return out;
  }

  private static void reset(Path work, List<Path> segments, List<byte[]> bytes, int target, byte[] damaged)
      throws IOException {
    if (Files.isDirectory(work)) {
      for (Path p : WalSegments.list(work)) {
        Files.delete(p);
      }
    }
    Files.createDirectories(work);
    for (int s = 0; s < segments.size(); s++) {
      Files.write(work.resolve(segments.get(s).getFileName()), s == target ? damaged : bytes.get(s));
    }
  }

  private static long firstDifference(byte[] a, byte[] b) {
    long d = Arrays.mismatch(a, b);
    return d < 0 ? Long.MAX_VALUE : d;
  }

  /** Whether {@code want} appears in {@code got} as an ordered subsequence. */
  private static boolean containsInOrder(List<byte[]> got, List<byte[]> want) {
    int j = 0;
    for (int i = 0; i < got.size() && j < want.size(); i++) {
      if (Arrays.equals(got.get(i), want.get(j))) {
        j++;
      }
    }
    return j == want.size();
  }
}
