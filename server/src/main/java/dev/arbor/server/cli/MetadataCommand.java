package dev.arbor.server.cli;

import dev.arbor.metadata.RevisionGuard;
import dev.arbor.storage.DataDirLock;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code arbor metadata accept-revision}: clear a data node's metadata-went-back-in-time alarm. */
@Command(
    name = "metadata",
    mixinStandardHelpOptions = true,
    description = "Offline actions on what a data node remembers of cluster metadata.",
    subcommands = {MetadataCommand.AcceptRevision.class})
public final class MetadataCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
  }

  @Command(
      name = "accept-revision",
      mixinStandardHelpOptions = true,
      description = {
        "Accept etcd's current history on this data node: forget the highest etcd revision and cluster id",
        "the node has seen, which clears the alarm raised when etcd went back in time (restored from an",
        "older backup, or replaced). The node then deletes data on observed group deletes again. Run with",
        "the node stopped (refused while the data directory is locked), after checking etcd is right."
      })
  static final class AcceptRevision implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--data-dir", required = true, description = "Data directory of the node (its server stopped).")
    Path dataDir;

    @Override
    public Integer call() throws IOException {
      try (DataDirLock lock = DataDirLock.acquire(dataDir)) {
        boolean had = RevisionGuard.accept(dataDir);
        spec.commandLine().getOut().println(had
            ? "accepted: the node takes etcd's revision and cluster id as they are at its next start"
            : "nothing to accept: the node remembered no etcd revision");
      }
      return 0;
    }
  }
}
