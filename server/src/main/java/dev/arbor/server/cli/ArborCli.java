package dev.arbor.server.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The single {@code arbor} executable: server roles and client commands. Errors reach the user
 * as one readable line and a non-zero exit code, never a stack trace.
 */
@Command(
    name = "arbor",
    mixinStandardHelpOptions = true,
    versionProvider = ArborVersion.class,
    description = "Arbor: a replicated property store speaking BanyanDB's property API.",
    subcommands = {
      StandaloneCommand.class,
      DataCommand.class,
      LiaisonCommand.class,
      DevClusterCommand.class,
      GroupCommand.class,
      SchemaCommand.class,
      PropertyCommand.class,
      TreeCommand.class,
      WalCommand.class,
      QuarantineCommand.class,
      MetadataCommand.class,
      RepairCommand.class,
      CommandLine.HelpCommand.class
    })
public final class ArborCli implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(newCommandLine().execute(args));
  }

  /** The configured command line; exposed so tests can run commands in-process. */
  public static CommandLine newCommandLine() {
    CommandLine cl = new CommandLine(new ArborCli());
    cl.setExecutionExceptionHandler(new CliErrorHandler());
    return cl;
  }
}
