package dev.arbor.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** What the run was measured on. */
public record MachineInfo(int nproc, String cpuModel, String ram, String os, String java,
    String clientJvmArgs, String commit) {

  public static MachineInfo collect(Path repo) {
    String cpu = "unknown";
    String ram = "unknown";
    try {
      cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
          .filter(l -> l.startsWith("model name")).findFirst()
          .map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown");
    } catch (IOException | RuntimeException e) {
      // unknown
    }
    try {
      ram = Files.readAllLines(Path.of("/proc/meminfo")).stream()
          .filter(l -> l.startsWith("MemTotal:")).findFirst()
          .map(l -> String.format("%.1f GiB",
              Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024.0 / 1024.0))
          .orElse("unknown");
    } catch (IOException | RuntimeException e) {
      // unknown
    }
    String os = System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
        + System.getProperty("os.arch");
    String java = System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
        + " (" + System.getProperty("java.vendor") + ")";
    List<String> args = ManagementFactory.getRuntimeMXBean().getInputArguments();
    return new MachineInfo(Runtime.getRuntime().availableProcessors(), cpu, ram, os, java,
        args.isEmpty() ? "(JVM defaults)" : String.join(" ", args), commit(repo));
  }

  /** The repository's commit, read-only; "+ uncommitted changes" when the tree is dirty. */
  private static String commit(Path repo) {
    String head = run(repo, "git", "rev-parse", "--short", "HEAD");
    if (head == null || head.isEmpty()) {
      return "unknown";
    }
    String status = run(repo, "git", "status", "--porcelain", "--untracked-files=no");
    return status == null || status.isEmpty() ? head : head + " + uncommitted changes";
  }

  private static String run(Path dir, String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        return null;
      }
      return out;
    } catch (IOException | RuntimeException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
