package dev.arbor.server.cli;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.HybridClock;
import dev.arbor.storage.DataDirLock;
import dev.arbor.storage.Quarantine;
import dev.arbor.storage.QuarantineEntry;
import dev.arbor.storage.ShardDirs;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code arbor quarantine list|restore|purge}: group data a node set aside instead of deleting. */
@Command(
    name = "quarantine",
    mixinStandardHelpOptions = true,
    description = {
      "Group data a node set aside in <data-dir>/quarantine/ instead of deleting it: a group missing from",
      "metadata at start or after a re-list, or held under another incarnation than metadata's (etcd",
      "restored from an old backup, replaced, or its prefix wiped). Quarantined data is not served or",
      "repaired; it is purged after the node's --quarantine-retention."
    },
    subcommands = {QuarantineCommand.ListEntries.class, QuarantineCommand.Restore.class,
        QuarantineCommand.Purge.class})
public final class QuarantineCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
  }

  /** Options every subcommand takes. */
  static final class Target {
    @Option(names = "--data-dir", required = true, description = "Data directory of the node.")
    Path dataDir;

    @Option(names = "--group", description = "Only entries of this group.")
    String group;

    @Option(names = "--entry", description = "Only this entry (its directory name, as listed).")
    String entry;

    List<QuarantineEntry> select(Quarantine q) {
      return q.list().stream()
          .filter(e -> group == null || e.group().equals(group))
          .filter(e -> entry == null || e.name().equals(entry))
          .toList();
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "List quarantined group data, oldest first. Read-only; safe while the server runs.")
  static final class ListEntries implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;
    @Mixin Target target;

    @Override
    public Integer call() {
      PrintWriter out = spec.commandLine().getOut();
      List<QuarantineEntry> entries = target.select(new Quarantine(target.dataDir));
      for (QuarantineEntry e : entries) {
        out.printf("%s  group=%s  incarnation=%s  at=%s  %s%n", e.name(), e.group(), e.incarnationText(), e.at(),
            e.reason());
      }
      out.printf("%d quarantined group data set(s)%n", entries.size());
      return 0;
    }
  }

  @Command(name = "restore", mixinStandardHelpOptions = true,
      description = {
        "Move a group's quarantined data back, to be served at the next start. Only while the group exists",
        "in metadata with the data's incarnation; with --adopt also when the group was re-created",
        "(same shard count) after metadata lost it, its data then taking the new incarnation. Refused while",
        "the server runs (the data directory is locked) and when the group already has data on the node."
      })
  static final class Restore implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;
    @Mixin Target target;
    @Mixin ClusterMetadata cluster;

    @Option(names = "--adopt",
        description = "Restore into the group metadata has now even if its incarnation differs (the group was re-created identically after an etcd restore or wipe).")
    boolean adopt;

    @Override
    public Integer call() throws IOException {
      if (target.group == null) {
        throw new CliInputException("restore needs --group");
      }
      Quarantine q = new Quarantine(target.dataDir);
      try (DataDirLock lock = DataDirLock.acquire(target.dataDir); ClusterMetadata meta = cluster) {
        List<QuarantineEntry> entries = target.select(q);
        if (entries.isEmpty()) {
          throw new CliInputException("no quarantined data of group " + target.group + " in " + target.dataDir);
        }
        if (entries.size() > 1) {
          throw new CliInputException(entries.size() + " quarantined data sets of group " + target.group
              + "; choose one with --entry (see 'arbor quarantine list')");
        }
        QuarantineEntry e = entries.get(0);
        meta.connect(HybridClock.system());
        Optional<Group> group = meta.store().group(e.group());
        Optional<GroupIncarnation> now = meta.store().incarnation(e.group());
        if (group.isEmpty() || now.isEmpty()) {
          throw new CliInputException("group " + e.group() + " is not in metadata (or has no incarnation yet):"
              + " re-create it with the same shard count first, then restore with --adopt");
        }
        if (!now.equals(e.incarnation())) {
          if (!adopt) {
            throw new CliInputException("group " + e.group() + " in metadata is incarnation " + now.get()
                + ", the quarantined data is " + e.incarnationText() + ": if the group was re-created identically"
                + " after metadata lost it, restore with --adopt");
          }
          checkShards(e, group.get().getResourceOpts().getShardNum());
        }
        q.restore(e, now.get());
        spec.commandLine().getOut().printf("restored %s to group %s (incarnation %s); start the node to serve it%n",
            e.name(), e.group(), now.get());
      }
      return 0;
    }

    /** Placement depends on the shard count: data of shards the group does not have cannot be served. */
    private static void checkShards(QuarantineEntry e, int shardNum) throws IOException {
      Path data = e.dir().resolve("data");
      if (!Files.isDirectory(data)) {
        return;
      }
      try (Stream<Path> shards = Files.list(data)) {
        for (Path s : shards.toList()) {
          Integer shard = ShardDirs.shardOf(s);
          if (shard != null && shard >= Integer.toUnsignedLong(shardNum)) {
            throw new CliInputException("the quarantined data has shard " + shard + " but group " + e.group()
                + " has " + Integer.toUnsignedLong(shardNum) + " shard(s): it was not re-created identically");
          }
        }
      }
    }
  }

  @Command(name = "purge", mixinStandardHelpOptions = true,
      description = "Delete quarantined group data for good (all of it, or of --group / --entry). Refused while the server runs.")
  static final class Purge implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;
    @Mixin Target target;

    @Override
    public Integer call() throws IOException {
      Quarantine q = new Quarantine(target.dataDir);
      try (DataDirLock lock = DataDirLock.acquire(target.dataDir)) {
        List<QuarantineEntry> entries = target.select(q);
        for (QuarantineEntry e : entries) {
          q.purge(e);
          spec.commandLine().getOut().printf("purged %s (group %s, incarnation %s)%n", e.name(), e.group(),
              e.incarnationText());
        }
        spec.commandLine().getOut().printf("%d quarantined group data set(s) purged%n", entries.size());
      }
      return 0;
    }
  }
}
