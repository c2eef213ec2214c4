package dev.arbor.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One command run as a child process, stdout and stderr in one log file. It can be
 * launched again with the same command (a restart); {@link #output()} is what the current launch
 * wrote, so waiting for a line never matches the previous run's.
 */
public final class ChildProcess {
  /** Bound on the death of a SIGKILLed process. */
  public static final Duration KILL_TIMEOUT = Duration.ofSeconds(15);
  /**
   * Every child still running, SIGKILLed when this JVM exits without having stopped it: a test
   * or benchmark that dies half-way must not leave servers behind. JVM-wide by nature (a shutdown
   * hook), hence static.
   */
  private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(
        new Thread(() -> LIVE.forEach(Process::destroyForcibly), "arbor-harness-reaper"));
  }

  private final String name;
  private final List<String> command;
  private final Path log;
  private final Path workingDir;
  private Process process;
  private long logOffset;

  /** {@code workingDir}: never a data directory, so files a process writes to its cwd stay apart. */
  public ChildProcess(String name, List<String> command, Path log, Path workingDir) {
    this.name = name;
    this.command = List.copyOf(command);
    this.log = log.toAbsolutePath();
    this.workingDir = workingDir;
  }

  /**
   * Starts the command. The first launch starts the log afresh (a file left by an earlier run of
   * the same name is replaced); a relaunch after an exit appends to it.
   */
  public synchronized void launch() {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(name + " is still running (pid " + process.pid() + ")");
    }
    try {
      Files.createDirectories(log.getParent());
      boolean first = process == null;
      logOffset = !first && Files.exists(log) ? Files.size(log) : 0;
      process = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(first ? ProcessBuilder.Redirect.to(log.toFile())
              : ProcessBuilder.Redirect.appendTo(log.toFile()))
          .directory(workingDir.toFile()).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + ": " + String.join(" ", command), e);
    }
    Process p = process;
    LIVE.add(p);
    p.onExit().thenRun(() -> LIVE.remove(p));
  }

  public String name() {
    return name;
  }

  public List<String> command() {
    return command;
  }

  public Path log() {
    return log;
  }

  /** The current launch's process (null before the first launch). */
  public synchronized Process process() {
    return process;
  }

  public synchronized boolean alive() {
    return process != null && process.isAlive();
  }

  public synchronized long pid() {
    return process == null ? -1 : process.pid();
  }

  /** Everything the current launch wrote so far (stdout + stderr). */
  public String output() {
    long from;
    synchronized (this) {
      from = logOffset;
    }
    try {
      byte[] all = Files.readAllBytes(log);
      int start = (int) Math.min(from, all.length);
      return new String(all, start, all.length - start, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "<cannot read " + log + ": " + e + ">";
    }
  }

  /** The last {@code lines} lines of the current launch's output, framed for failure messages. */
  public String logTail(int lines) {
    List<String> all = output().lines().toList();
    List<String> tail = all.subList(Math.max(0, all.size() - lines), all.size());
    return "----- last " + tail.size() + " lines of " + log + " -----\n"
        + String.join("\n", tail) + "\n----- end of log -----";
  }

  /** Whether the current launch failed to bind a port (another process took a picked port). */
  public boolean bindFailed() {
    String out = output();
    return out.toLowerCase(java.util.Locale.ROOT).contains("address already in use")
        || out.contains("BindException");
  }

  /**
   * Fails at once when the process has exited: "{@code name} exited with code N {@code
   * doing}" and the log tail.
   */
  public void requireAlive(String doing) {
    Process p = process();
    if (p != null && !p.isAlive()) {
      throw new HarnessException(name + " exited with code " + p.exitValue() + " " + doing + "\n"
          + logTail(60));
    }
  }

  /**
   * Waits (bounded) until the current launch's output contains {@code text}; fails with the log
   * tail on timeout, or at once when the process exits without having written it.
   */
  public void awaitOutput(String text, Duration timeout) {
    Poll.until(name + " printed '" + text + "'", timeout, Duration.ofMillis(100), () -> {
      if (output().contains(text)) {
        return true;
      }
      requireAlive("without printing '" + text + "'");
      return false;
    }, () -> "(alive=" + alive() + ")\n" + logTail(60));
  }

  /** Waits (bounded) for the process to exit by itself; returns whether it did. */
  public boolean waitFor(Duration timeout) {
    Process p = process();
    if (p == null) {
      return true;
    }
    try {
      return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** SIGTERM without waiting (to stop several processes in parallel, then {@link #stop}). */
  public void terminate() {
    Process p = process();
    if (p != null) {
      p.destroy();
    }
  }

  /**
   * SIGTERM, then waits up to {@code timeout}; a process still alive then is SIGKILLed and this
   * fails with its log tail. Returns the exit code (of the last launch, if it had exited).
   */
  public int stop(Duration timeout) {
    Process p = process();
    if (p == null) {
      return 0;
    }
    if (p.isAlive()) {
      p.destroy();
      if (!waitFor(timeout)) {
        p.destroyForcibly();
        waitFor(KILL_TIMEOUT);
        throw new HarnessException(name + " did not exit within " + timeout.toSeconds()
            + " s of SIGTERM (killed with SIGKILL)\n" + logTail(60));
      }
    }
    return p.exitValue();
  }

  /** SIGKILL (a crash: no shutdown hook runs) and checks the process died of it (exit 137). */
  public void kill9() {
    Process p = process();
    if (p == null) {
      return;
    }
    p.destroyForcibly();
    if (!waitFor(KILL_TIMEOUT) || p.isAlive()) {
      throw new HarnessException(name + " (pid " + p.pid() + ") still alive after SIGKILL");
    }
    // 128 + SIGKILL(9): the JVM had no chance to run shutdown hooks.
    int code = p.exitValue();
    if (code != 137) {
      throw new HarnessException(name + " exited with " + code + " instead of 137 after SIGKILL\n"
          + logTail(30));
    }
  }

  /** SIGKILL if still running, without checks (clean-up). */
  public void destroy() {
    Process p = process();
    if (p != null && p.isAlive()) {
      p.destroyForcibly();
      waitFor(KILL_TIMEOUT);
    }
  }

  /** {@code kill -<signal> pid} (e.g. STOP, CONT); nothing when the process has exited. */
  public void signal(String signal) {
    Process p = process();
    if (p == null || !p.isAlive()) {
      return;
    }
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid()))
          .redirectErrorStream(true).start();
      kill.getInputStream().readAllBytes();
      if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
        throw new HarnessException("kill -" + signal + " " + p.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("kill -" + signal + " " + p.pid(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HarnessException("interrupted sending " + signal, e);
    }
  }

  @Override
  public String toString() {
    return name + " pid=" + pid();
  }
}
