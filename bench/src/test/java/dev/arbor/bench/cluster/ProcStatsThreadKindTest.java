package dev.arbor.bench.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ProcStatsThreadKindTest {
  @Test
  void hotspotThreadNamesAsLinuxShowsThem() {
    // Linux keeps the first 15 characters of a thread's name.
    assertThat(ProcStats.kindOf("C2 CompilerThre")).isEqualTo(ProcStats.ThreadKind.JIT);
    assertThat(ProcStats.kindOf("C1 CompilerThre")).isEqualTo(ProcStats.ThreadKind.JIT);
    assertThat(ProcStats.kindOf("GC Thread#1")).isEqualTo(ProcStats.ThreadKind.GC);
    assertThat(ProcStats.kindOf("G1 Conc#0")).isEqualTo(ProcStats.ThreadKind.GC);
    assertThat(ProcStats.kindOf("VM Thread")).isEqualTo(ProcStats.ThreadKind.GC);
    assertThat(ProcStats.kindOf("grpc-default-ex")).isEqualTo(ProcStats.ThreadKind.OTHER);
    assertThat(ProcStats.kindOf("main")).isEqualTo(ProcStats.ThreadKind.OTHER);
  }

  @Test
  void thisProcessHasCpuOnItsOwnThreads() {
    Map<ProcStats.ThreadKind, Long> byKind = ProcStats.cpuNanosByThreadKind(ProcessHandle.current().pid());
    if (!java.nio.file.Files.isDirectory(java.nio.file.Path.of("/proc/self/task"))) {
      assertThat(byKind).isEmpty();
      return;
    }
    // The test runner's threads have run: at least one clock tick on the non-JIT, non-GC threads.
    assertThat(byKind.get(ProcStats.ThreadKind.OTHER)).isPositive();
  }

  @Test
  void aProcessThatDoesNotExistGivesNothing() {
    assertThat(ProcStats.cpuNanosByThreadKind(Long.MAX_VALUE)).isEmpty();
  }
}
