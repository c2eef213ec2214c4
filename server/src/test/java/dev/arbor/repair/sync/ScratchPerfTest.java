package dev.arbor.repair.sync;

import dev.arbor.property.PropertyRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScratchPerfTest {
  @TempDir Path dir;
  static final java.util.Random R = new java.util.Random(1);
  static String rnd(int n) {
    char[] c = new char[n];
    for (int i = 0; i < n; i++) c[i] = (char) ('a' + R.nextInt(26));
    return new String(c);
  }

  @Test
  void full() throws Exception {
    int n = Integer.getInteger("perf.n", 100_000);
    String pad = "x".repeat(2000);
    try (SyncNode a = new SyncNode(dir, "a", 1); SyncNode b = new SyncNode(dir, "b", 1)) {
      List<PropertyRecord> batch = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        batch.add(RepairSessionTest.rec("p" + i, 10 + i, 0, rnd(2000)));
        if (batch.size() == 2000) { a.putAll(batch); if (i % 2 == 0) {} batch.clear(); }
      }
      a.putAll(batch);
      a.trees.ensureCurrent("g", 0, java.time.Duration.ofMinutes(1));
      b.trees.ensureCurrent("g", 0, java.time.Duration.ofMinutes(1));
      for (String dirn : new String[] {"pull", "same"}) {
        long t0 = System.nanoTime();
        var cpu0 = java.lang.management.ManagementFactory.getThreadMXBean();
        long c0 = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
        SessionFigures f = b.syncWith(a, "g", 0);
        long c1 = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
        System.out.printf("[perf] %s n=%d wall=%.0f ms cpu=%.0f ms figures=%s%n", dirn, n, (System.nanoTime() - t0) / 1e6, (c1 - c0) / 1e6, f);
      }
    }
  }
}
