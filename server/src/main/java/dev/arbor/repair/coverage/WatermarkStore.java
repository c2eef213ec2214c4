package dev.arbor.repair.coverage;

import dev.arbor.storage.SealedFile;
import dev.arbor.storage.format.FileFormat;
import java.io.IOException;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coverage watermark of every shard this node learned of, kept in one small file rewritten
 * atomically on every change. A missing, unreadable or damaged file means no watermark at all: the
 * node then purges no tombstone of a replicated shard until the next covering round. That is the
 * safe side (a watermark read from damaged bytes could allow an early purge), so it is never a
 * reason to fail.
 *
 * <p>Format 2: the {@link FileFormat} envelope (kind {@value #KIND}) around one text line per shard
 * ({@code group TAB shard TAB start-ns TAB round-id TAB node,node,...}, round id and node ids
 * URL-encoded). Format 1, still read and rewritten in format 2 on the next change: the header line
 * {@value #HEADER}, the same lines, and a last line {@code crc32 HEX} over everything before it.
 */
public final class WatermarkStore {
  private static final Logger LOG = LoggerFactory.getLogger(WatermarkStore.class);
  static final String HEADER = "arbor-coverage-watermarks 1";
  static final String KIND = "coverage-watermarks";
  static final int FORMAT = 2;

  private final SealedFile file;
  private final Map<ShardKey, CoverageWatermark> marks = new TreeMap<>();

  private record ShardKey(String group, int shard) implements Comparable<ShardKey> {
    @Override
    public int compareTo(ShardKey o) {
      int c = group.compareTo(o.group);
      return c != 0 ? c : Integer.compare(shard, o.shard);
    }
  }

  private WatermarkStore(Path file) {
    this.file = new SealedFile(file, KIND, FORMAT);
  }

  /** Loads the watermarks kept in {@code file}; a missing or damaged file gives none. */
  public static WatermarkStore open(Path file) {
    WatermarkStore s = new WatermarkStore(file);
    try {
      // Absent: first start, no round covered anything yet.
      s.file.read().ifPresent(f -> s.marks.putAll(f.version() == SealedFile.LEGACY
          ? parseLegacy(new String(f.body(), StandardCharsets.UTF_8))
          : parseLines(new String(f.body(), StandardCharsets.UTF_8))));
    } catch (IOException | RuntimeException e) {
      LOG.error("coverage watermark file {} is unreadable or damaged ({}); starting without watermarks: no tombstone"
          + " of a replicated shard is purged until a repair round covers all its replicas again (the file is"
          + " rewritten then). Nothing to do; 'arbor repair run --group G --all' makes that happen now",
          file, e.getMessage());
      s.marks.clear();
    }
    return s;
  }

  public Path file() {
    return file.path();
  }

  public synchronized Optional<CoverageWatermark> get(String group, int shard) {
    return Optional.ofNullable(marks.get(new ShardKey(group, shard)));
  }

  /**
   * Keeps {@code w} for the shard unless a round that started later is already kept (notices
   * may arrive out of order). Persisting failures are logged: the watermark then holds until a
   * restart, which loses it, and losing one only delays a purge.
   *
   * @return whether {@code w} is now the shard's watermark
   */
  public synchronized boolean record(String group, int shard, CoverageWatermark w) {
    ShardKey k = new ShardKey(group, shard);
    CoverageWatermark old = marks.get(k);
    if (old != null && old.roundStartNanos() >= w.roundStartNanos()) {
      return false;
    }
    marks.put(k, w);
    persist();
    return true;
  }

  /** The (group, shard) of every watermark kept, in order. */
  public synchronized java.util.List<Map.Entry<String, Integer>> shards() {
    return marks.keySet().stream().map(k -> Map.entry(k.group, k.shard)).toList();
  }

  /** Forgets every watermark of a deleted group. */
  public synchronized void dropGroup(String group) {
    if (marks.keySet().removeIf(k -> k.group.equals(group))) {
      persist();
    }
  }

  private void persist() {
    try {
      file.write(format(marks).getBytes(StandardCharsets.UTF_8));
    } catch (IOException | RuntimeException e) {
      LOG.error("writing coverage watermarks to {} failed; they are kept in memory until restart", file.path(), e);
    }
  }

  private static String format(Map<ShardKey, CoverageWatermark> marks) {
    StringBuilder b = new StringBuilder();
    marks.forEach((k, w) -> b.append(k.group).append('\t').append(k.shard).append('\t')
        .append(w.roundStartNanos()).append('\t').append(enc(w.roundId())).append('\t')
        .append(String.join(",", w.ring().stream().map(WatermarkStore::enc).toList())).append('\n'));
    return b.toString();
  }

  /** Format 1: header line, lines, and a CRC32 line over everything before it. */
  private static Map<ShardKey, CoverageWatermark> parseLegacy(String text) {
    int end = text.lastIndexOf("crc32 ");
    if (!text.startsWith(HEADER + "\n") || end < 0) {
      throw new IllegalArgumentException("no header or no checksum");
    }
    String body = text.substring(0, end);
    long want = Long.parseLong(text.substring(end + 6).trim(), 16);
    if (crc(body) != want) {
      throw new IllegalArgumentException("checksum mismatch");
    }
    return parseLines(body.substring(HEADER.length() + 1));
  }

  private static Map<ShardKey, CoverageWatermark> parseLines(String lines) {
    Map<ShardKey, CoverageWatermark> out = new TreeMap<>();
    for (String line : lines.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      String[] f = line.split("\t", -1);
      if (f.length != 5) {
        throw new IllegalArgumentException("malformed line '" + line + "'");
      }
      List<String> ring = f[4].isEmpty() ? List.of()
          : Arrays.stream(f[4].split(",")).map(WatermarkStore::dec).toList();
      out.put(new ShardKey(f[0], Integer.parseInt(f[1])),
          new CoverageWatermark(Long.parseLong(f[2]), dec(f[3]), ring));
    }
    return out;
  }

  /** Node ids may hold any character but surrounding blanks: escaped so separators stay separators. */
  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  private static String dec(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  private static long crc(String s) {
    CRC32 c = new CRC32();
    c.update(s.getBytes(StandardCharsets.UTF_8));
    return c.getValue();
  }
}
