package dev.arbor.server.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code arbor repair run|traces}: start repair rounds on a data node and read their traces. */
@Command(
    name = "repair",
    mixinStandardHelpOptions = true,
    description = "Run background repair now, or read repair traces (talks to a data node's gRPC port).",
    subcommands = {RepairRunCommand.class, RepairTracesCommand.class})
public final class RepairCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand (run or traces)");
  }
}
