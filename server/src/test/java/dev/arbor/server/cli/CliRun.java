package dev.arbor.server.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** One in-process run of a CLI command: its exit code and what it printed on stdout and stderr. */
record CliRun(int exit, String out, String err) {
  /** Runs {@code arbor ARGS} configured as the real entry point configures it. */
  static CliRun arbor(String... args) {
    return of(ArborCli.newCommandLine(), args);
  }

  /** Runs {@code args} on a command line the caller configured (one command alone, say). */
  static CliRun of(CommandLine cl, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(args);
    return new CliRun(exit, out.toString(), err.toString());
  }
}
