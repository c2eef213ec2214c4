package dev.arbor.bench.cluster;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Per-process figures from Linux {@code /proc}: CPU time (utime + stime of {@code stat}, in clock
 * ticks of {@code getconf CLK_TCK}), resident set size ({@code VmRSS}) and its peak
 * ({@code VmHWM}), which {@link #resetPeakRss} sets back to the current RSS (writing {@code 5} to
 * {@code clear_refs}, Linux 4.0+) so a peak can be taken over one window. Every reader returns -1
 * when the figure is unavailable (not Linux, process gone).
 */
public final class ProcStats {
  public static final long CLOCK_TICKS_PER_SECOND = clockTicks();

  private ProcStats() {}

  /** utime + stime of the process in nanoseconds, or -1. */
  public static long cpuNanos(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // Fields after "(comm)": state is field 3, utime 14, stime 15 (1-based) -> index 11, 12.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
      return ticks * (1_000_000_000L / CLOCK_TICKS_PER_SECOND);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** What a JVM thread does, judged by its name: the JIT compilers, garbage collection, the rest. */
  public enum ThreadKind { JIT, GC, OTHER }

  /**
   * CPU time of the process's live threads by {@link ThreadKind}, in nanoseconds (utime + stime of
   * each {@code task/<tid>/stat}); empty when unavailable. A thread that ended takes its time with
   * it (HotSpot also stops idle compiler threads), so the difference of two samples is a lower
   * bound per kind; {@link #cpuNanos} keeps the whole process's time.
   */
  public static java.util.Map<ThreadKind, Long> cpuNanosByThreadKind(long pid) {
    java.util.Map<ThreadKind, Long> out = new java.util.EnumMap<>(ThreadKind.class);
    try (var tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path t : (Iterable<Path>) tasks::iterator) {
        try {
          String stat = Files.readString(t.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
          out.merge(kindOf(name), ticks * (1_000_000_000L / CLOCK_TICKS_PER_SECOND), Long::sum);
        } catch (IOException | RuntimeException e) {
          // the thread ended between listing and reading
        }
      }
    } catch (IOException | RuntimeException e) {
      return java.util.Map.of();
    }
    return out;
  }

  /** HotSpot's thread names (Linux truncates them to 15 characters). */
  static ThreadKind kindOf(String threadName) {
    if (threadName.contains("CompilerThre")) {
      return ThreadKind.JIT;
    }
    if (threadName.startsWith("GC Thread") || threadName.startsWith("G1 ") || threadName.equals("VM Thread")) {
      return ThreadKind.GC;
    }
    return ThreadKind.OTHER;
  }

  /** Current resident set size in bytes, or -1. */
  public static long rssBytes(long pid) {
    return statusKb(pid, "VmRSS:");
  }

  /**
   * Anonymous resident memory in bytes (heap, stacks, malloc, direct buffers), or -1. The rest of
   * the RSS is mostly file-backed pages ({@link #rssFileBytes}): memory-mapped index files,
   * which count in VmRSS / VmHWM while they are resident but belong to the page cache.
   */
  public static long rssAnonBytes(long pid) {
    return statusKb(pid, "RssAnon:");
  }

  /** File-backed resident memory in bytes (e.g. mmapped Lucene files), or -1. */
  public static long rssFileBytes(long pid) {
    return statusKb(pid, "RssFile:");
  }

  /** Peak resident set size in bytes (since start or the last {@link #resetPeakRss}), or -1. */
  public static long peakRssBytes(long pid) {
    return statusKb(pid, "VmHWM:");
  }

  /** Resets the process's peak RSS to its current RSS; false when the kernel refused. */
  public static boolean resetPeakRss(long pid) {
    try {
      Files.writeString(Path.of("/proc", Long.toString(pid), "clear_refs"), "5");
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  private static long statusKb(long pid, String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // unknown
    }
    return -1;
  }

  private static long clockTicks() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
      p.waitFor(5, TimeUnit.SECONDS);
      long v = Long.parseLong(out);
      return v > 0 ? v : 100;
    } catch (IOException | RuntimeException e) {
      return 100;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 100;
    }
  }
}
