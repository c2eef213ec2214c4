package dev.arbor.bench;

import java.lang.management.ManagementFactory;

/**
 * CPU time consumed so far by this (client) process and, when the benchmark started it, by the
 * server process (read from /proc; -1 when unknown).
 */
record CpuSample(long wallNanos, long clientCpuNanos, long serverCpuNanos, long machineBusyNanos) {

  /**
   * CPU use over an interval, in cores (CPU seconds per wall second). {@code otherCores} is what
   * the rest of the machine used meanwhile (all busy CPU time less client and server): noise.
   */
  record Delta(double wallSeconds, double clientCores, double serverCores, long serverCpuNanos,
      double otherCores) {}

  static CpuSample now(ServerSide server) {
    return new CpuSample(System.nanoTime(), clientCpu(), server == null ? -1 : server.cpuNanos(),
        machineBusy());
  }

  Delta minus(CpuSample before) {
    double wall = (wallNanos - before.wallNanos) / 1e9;
    double client = clientCpuNanos < 0 || before.clientCpuNanos < 0 || wall <= 0
        ? -1 : (clientCpuNanos - before.clientCpuNanos) / 1e9 / wall;
    boolean haveServer = serverCpuNanos >= 0 && before.serverCpuNanos >= 0 && wall > 0;
    long serverNanos = haveServer ? serverCpuNanos - before.serverCpuNanos : -1;
    double server = haveServer ? serverNanos / 1e9 / wall : -1;
    double other = -1;
    if (machineBusyNanos >= 0 && before.machineBusyNanos >= 0 && client >= 0 && wall > 0) {
      double busy = (machineBusyNanos - before.machineBusyNanos) / 1e9 / wall;
      other = Math.max(0, busy - client - Math.max(0, server));
    }
    return new Delta(wall, client, server, serverNanos, other);
  }

  /** Busy CPU time of the whole machine from /proc/stat (all but idle and iowait); -1 if unknown. */
  private static long machineBusy() {
    try (java.io.BufferedReader r = java.nio.file.Files.newBufferedReader(
        java.nio.file.Path.of("/proc/stat"))) {
      String[] f = r.readLine().trim().split("\\s+");
      // cpu user nice system idle iowait irq softirq steal ...
      long busy = 0;
      for (int i = 1; i <= 8 && i < f.length; i++) {
        if (i != 4 && i != 5) {
          busy += Long.parseLong(f[i]);
        }
      }
      return busy * (1_000_000_000L / ServerProcess.CLOCK_TICKS_PER_SECOND);
    } catch (java.io.IOException | RuntimeException e) {
      return -1;
    }
  }

  private static long clientCpu() {
    if (ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getProcessCpuTime();
    }
    return -1;
  }
}
