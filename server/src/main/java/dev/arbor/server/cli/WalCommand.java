package dev.arbor.server.cli;

import dev.arbor.storage.WalDamage;
import dev.arbor.storage.WalInspection;
import dev.arbor.storage.WalSalvage;
import dev.arbor.storage.WalSegmentScan;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code arbor wal inspect|salvage}: look at a node's write-ahead log, or make a damaged one startable. */
@Command(
    name = "wal",
    mixinStandardHelpOptions = true,
    description = "Inspect a node's write-ahead log on disk, or salvage a damaged one (offline).",
    subcommands = {WalCommand.Inspect.class, WalCommand.Salvage.class})
public final class WalCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
  }

  @Command(
      name = "inspect",
      mixinStandardHelpOptions = true,
      description = {
        "Print each write-ahead log segment of the data directory (format, frames, bytes, the first",
        "damage and why) and whether the node would start. Read-only; safe while the server runs.",
        "Exit 0 when the node would start, 1 when it would refuse."
      })
  static final class Inspect implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--data-dir", required = true, description = "Data directory of the node.")
    Path dataDir;

    @Override
    public Integer call() throws IOException {
      WalInspection wal = WalInspection.of(dataDir);
      PrintWriter out = spec.commandLine().getOut();
      for (WalSegmentScan s : wal.segments()) {
        out.println(describe(s));
      }
      String refusal = wal.refusal();
      WalSegmentScan torn = wal.tornTail();
      if (refusal != null) {
        out.println("the node will not start: " + refusal);
        return CliErrorHandler.EXIT_FAILURE;
      }
      if (torn != null) {
        out.printf("the node will start: the torn tail of %s (an unacknowledged write) is cut off at byte %d%n",
            torn.path().getFileName(), torn.goodEnd());
      } else {
        out.printf("the node will start: %d segment(s), all intact%n", wal.segments().size());
      }
      return 0;
    }
  }

  @Command(
      name = "salvage",
      mixinStandardHelpOptions = true,
      description = {
        "Make a damaged write-ahead log startable: each damaged segment keeps its valid frames before",
        "the first damage; the original segment is moved to wal/salvaged-<time>/ (nothing is deleted).",
        "Run with the server stopped: refused while the data directory is locked."
      })
  static final class Salvage implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--data-dir", required = true, description = "Data directory of the node (its server stopped).")
    Path dataDir;

    @Override
    public Integer call() throws IOException {
      WalSalvage.Report report = WalSalvage.salvage(dataDir, Instant.now());
      PrintWriter out = spec.commandLine().getOut();
      if (report.outcomes().isEmpty()) {
        out.printf("nothing to salvage: %d segment(s), all intact%n", report.segments().size());
        return 0;
      }
      boolean leftAlone = false;
      for (WalSalvage.Outcome o : report.outcomes()) {
        String name = o.scan().path().getFileName().toString();
        if (o.leftAlone() != null) {
          leftAlone = true;
          out.printf("%s: left alone: %s%n", name, o.leftAlone());
          continue;
        }
        WalDamage d = o.scan().damage();
        out.printf("%s: kept %d frame(s) (%d bytes), dropped %d bytes from byte %d (%s%s); original in %s%n",
            name, o.keptFrames(), o.scan().goodEnd(), o.droppedBytes(), d.offset(), d.reason(),
            d.validFramesFollow() ? "; valid frames followed at byte " + d.nextValidFrame() : "",
            dataDir.relativize(o.original()));
      }
      return leftAlone ? CliErrorHandler.EXIT_FAILURE : 0;
    }
  }

  /** One line per segment: name, format, frames, bytes, and the first damage. */
  static String describe(WalSegmentScan s) {
    boolean badHeader = !s.intact() && s.damage().offset() == 0 && s.dataStart() == 0 && s.version() > 1;
    String format = badHeader ? "unreadable header" : switch (s.version()) {
      case 0 -> "empty";
      case 1 -> "format 1 (no header)";
      default -> "format " + s.version();
    };
    String state;
    if (s.intact()) {
      state = "intact";
    } else {
      WalDamage d = s.damage();
      state = "damaged at byte " + d.offset() + ": " + d.reason()
          + (d.validFramesFollow() ? "; a valid frame follows at byte " + d.nextValidFrame() : "");
    }
    return String.format("%s  %s  %d frame(s)  %d bytes (%d good)  %s",
        s.path().getFileName(), format, s.frames(), s.size(), s.goodEnd(), state);
  }
}
