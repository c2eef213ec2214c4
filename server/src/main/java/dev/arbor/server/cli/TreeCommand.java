package dev.arbor.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.arbor.api.admin.v1.BuildTreesRequest;
import dev.arbor.api.admin.v1.BuildTreesResponse;
import dev.arbor.repair.tree.SlotSummary;
import dev.arbor.repair.tree.TreeFileReader;
import dev.arbor.repair.tree.TreeHasher;
import dev.arbor.repair.tree.TreeLeaf;
import dev.arbor.repair.tree.TreeSummary;
import dev.arbor.storage.ShardDirs;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code arbor tree inspect|build}: look inside repair trees, or build them now. */
@Command(
    name = "tree",
    mixinStandardHelpOptions = true,
    description = "Inspect repair trees on disk, or build them on a running data node.",
    subcommands = {TreeCommand.Inspect.class, TreeCommand.Build.class})
public final class TreeCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
  }

  @Command(
      name = "inspect",
      mixinStandardHelpOptions = true,
      description = {
        "Print a shard's repair tree from the data directory (safe while the server runs):",
        "root, build info and slot table; with --slot, that slot's leaves."
      })
  static final class Inspect implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--data-dir", required = true, description = "Data directory of the node.")
    Path dataDir;

    @Option(names = "--group", required = true, description = "Group.")
    String group;

    @Option(names = "--shard", required = true, description = "Shard id.")
    int shard;

    @Option(names = "--slot", description = "Also print the leaves of this slot.")
    Integer slot;

    @Option(names = "--json", description = "Print JSON instead of a table.")
    boolean json;

    @Override
    public Integer call() throws IOException {
      Path dir = ShardDirs.of(dataDir.resolve("repair"), group, shard);
      Path file = dir.resolve("tree.bin");
      PrintWriter out = spec.commandLine().getOut();
      if (!Files.exists(file)) {
        java.util.Optional<dev.arbor.repair.tree.BuildState> state =
            dev.arbor.repair.tree.BuildStateFile.read(dir.resolve("state.json"));
        if (state.isPresent()) {
          out.println("tree of " + group + "/" + shard + " is empty (no leaves); state: "
              + new ObjectMapper().writeValueAsString(state.get()));
          return 0;
        }
        throw new NoSuchFileException(file + " (no tree built for " + group + "/" + shard + " yet)");
      }
      try (TreeFileReader r = TreeFileReader.open(file)) {
        if (slot != null && (slot < 0 || slot >= r.slots().size())) {
          throw new CommandLine.ParameterException(
              spec.commandLine(), "--slot must be in [0, " + r.slots().size() + ")");
        }
        if (json) {
          printJson(r, out);
        } else {
          printTable(r, out);
        }
      } catch (UncheckedIOException e) {
        throw e.getCause();
      }
      return 0;
    }

    private void printTable(TreeFileReader r, PrintWriter out) throws IOException {
      TreeSummary s = r.summary();
      out.printf("tree      %s/%d%n", s.header().group(), s.header().shard());
      out.printf("root      %s%n", s.rootHex());
      out.printf("leaves    %d in %d slots%n", s.leafCount(), s.slots().size());
      out.printf("snapshot  %d, built %s%n", s.header().snapshotId(), Instant.ofEpochMilli(s.header().buildTimeMillis()));
      out.println("slot  leaves  hash");
      for (SlotSummary ss : s.slots()) {
        out.printf("%4d  %6d  %s%n", ss.index(), ss.leafCount(), TreeHasher.hex(ss.hash()));
      }
      if (slot != null) {
        out.println("leaves of slot " + slot + ":");
        try (TreeFileReader.LeafIterator it = r.leaves(slot)) {
          while (it.hasNext()) {
            TreeLeaf l = it.next();
            out.printf("  %s  %s%n", TreeHasher.hex(l.sha()), l.entity());
          }
        }
      }
    }

    private void printJson(TreeFileReader r, PrintWriter out) throws IOException {
      ObjectMapper m = new ObjectMapper();
      TreeSummary s = r.summary();
      ObjectNode root = m.createObjectNode();
      root.put("group", s.header().group());
      root.put("shard", s.header().shard());
      root.put("root", s.rootHex());
      root.put("leafCount", s.leafCount());
      root.put("snapshotId", s.header().snapshotId());
      root.put("builtAt", Instant.ofEpochMilli(s.header().buildTimeMillis()).toString());
      ArrayNode slots = root.putArray("slots");
      for (SlotSummary ss : s.slots()) {
        slots.addObject().put("index", ss.index()).put("leafCount", ss.leafCount()).put("hash", TreeHasher.hex(ss.hash()));
      }
      if (slot != null) {
        ArrayNode leaves = root.putArray("leaves");
        try (TreeFileReader.LeafIterator it = r.leaves(slot)) {
          while (it.hasNext()) {
            TreeLeaf l = it.next();
            leaves.addObject().put("entity", l.entity()).put("sha", TreeHasher.hex(l.sha()));
          }
        }
      }
      out.println(m.writerWithDefaultPrettyPrinter().writeValueAsString(root));
    }
  }

  @Command(
      name = "build",
      mixinStandardHelpOptions = true,
      description = "Build repair trees now on a running node and print the results (raise --timeout for big shards).")
  static final class Build implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(names = "--group", description = "Group (omit with --all to build every shard of the node).")
    String group;

    @Option(names = "--shard", description = "Shard to build.")
    Integer shard;

    @Option(names = "--all", description = "Every shard (of --group, or of the whole node).")
    boolean all;

    @Option(names = "--force", description = "Rebuild even when the data did not change.")
    boolean force;

    @Override
    public Integer call() {
      CommandLine cl = client.mixee.commandLine();
      if (all == (shard != null)) {
        throw new CommandLine.ParameterException(cl, "give exactly one of --shard N or --all");
      }
      if (group == null && !all) {
        throw new CommandLine.ParameterException(cl, "--group is required with --shard");
      }
      BuildTreesRequest.Builder req = BuildTreesRequest.newBuilder().setAllShards(all).setForce(force);
      if (group != null) {
        req.setGroup(group);
      }
      if (shard != null) {
        req.setShard(shard);
      }
      try (ApiChannel api = client.connect()) {
        BuildTreesResponse resp = api.call(() -> api.treeAdmin().buildTrees(req.build()));
        client.output().printList("results", resp.getResultsList());
        boolean failed = resp.getResultsList().stream().anyMatch(r -> r.getOutcome().equals("FAILED"));
        return failed ? CliErrorHandler.EXIT_FAILURE : 0;
      }
    }
  }
}
