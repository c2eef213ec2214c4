package dev.arbor.server.cli;

import dev.arbor.api.banyandb.common.v1.Catalog;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.common.v1.ResourceOpts;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceCreateResponse;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceDeleteRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceDeleteResponse;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceGetRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceGetResponse;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceListRequest;
import dev.arbor.api.banyandb.database.v1.GroupRegistryServiceListResponse;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code arbor group create|get|list|delete}: the group registry of a running server. Groups
 * made here have catalog {@code CATALOG_PROPERTY}, the only catalog Arbor serves.
 */
@Command(
    name = "group",
    mixinStandardHelpOptions = true,
    description = "Manage property groups on a running Arbor server.",
    subcommands = {
      GroupCommand.Create.class,
      GroupCommand.Get.class,
      GroupCommand.ListGroups.class,
      GroupCommand.Delete.class
    })
public final class GroupCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
  }

  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description = {
        "Create a property group, from JSON (a banyandb.common.v1.Group) or from options.",
        "A JSON group without a catalog gets CATALOG_PROPERTY."
      })
  static final class Create implements Callable<Integer> {
    @Mixin ClientOptions client;
    @Mixin JsonInput input;

    @Option(names = "--name", paramLabel = "GROUP", description = "Group name.")
    String name;

    @Option(names = "--shards", paramLabel = "N", description = "Number of shards (> 0).")
    Integer shards;

    @Option(
        names = "--replicas",
        paramLabel = "R",
        description = "Extra copies of each shard (0 = one copy). Default: 0.")
    Integer replicas;

    @Override
    public Integer call() {
      List<String> flags = JsonInput.givenFlags("--name", name, "--shards", shards, "--replicas", replicas);
      input.requireExclusive(flags, "--name G --shards N [--replicas R]");
      Group group = input.given() ? fromJson() : fromOptions();
      try (ApiChannel api = client.connect()) {
        GroupRegistryServiceCreateResponse resp =
            api.call(
                () ->
                    api.groups()
                        .create(GroupRegistryServiceCreateRequest.newBuilder().setGroup(group).build()));
        client.output().printWithDefaults(resp);
      }
      return 0;
    }

    private Group fromJson() {
      Group.Builder g = input.parseInto(Group.newBuilder(), "group");
      if (g.getCatalog() == Catalog.CATALOG_UNSPECIFIED) {
        g.setCatalog(Catalog.CATALOG_PROPERTY);
      }
      return g.build();
    }

    private Group fromOptions() {
      if (name == null || shards == null) {
        throw input.usage("--name and --shards are both required (or give --json/--file)");
      }
      return Group.newBuilder()
          .setMetadata(Metadata.newBuilder().setName(name))
          .setCatalog(Catalog.CATALOG_PROPERTY)
          .setResourceOpts(
              ResourceOpts.newBuilder()
                  .setShardNum(shards)
                  .setReplicas(replicas == null ? 0 : replicas))
          .build();
    }
  }

  @Command(name = "get", mixinStandardHelpOptions = true, description = "Print one group.")
  static final class Get implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(names = "--name", required = true, paramLabel = "GROUP", description = "Group name.")
    String name;

    @Override
    public Integer call() {
      try (ApiChannel api = client.connect()) {
        GroupRegistryServiceGetResponse resp =
            api.call(
                () -> api.groups().get(GroupRegistryServiceGetRequest.newBuilder().setGroup(name).build()));
        client.output().print(resp.getGroup());
      }
      return 0;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Print all groups as {\"groups\": [...]}.")
  static final class ListGroups implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Override
    public Integer call() {
      try (ApiChannel api = client.connect()) {
        GroupRegistryServiceListResponse resp =
            api.call(() -> api.groups().list(GroupRegistryServiceListRequest.getDefaultInstance()));
        client.output().printList("groups", resp.getGroupList());
      }
      return 0;
    }
  }

  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      description = "Delete a group with its schemas and properties; prints {\"deleted\": true|false}.")
  static final class Delete implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(names = "--name", required = true, paramLabel = "GROUP", description = "Group name.")
    String name;

    @Option(names = "--dry-run", description = "Delete nothing; fail with NOT_FOUND if the group does not exist.")
    boolean dryRun;

    @Option(names = "--data-only", description = "Delete every property of the group; keep the group and its schemas.")
    boolean dataOnly;

    @Override
    public Integer call() {
      try (ApiChannel api = client.connect()) {
        GroupRegistryServiceDeleteResponse resp =
            api.call(
                () ->
                    api.groups()
                        .delete(GroupRegistryServiceDeleteRequest.newBuilder().setGroup(name)
                            .setDryRun(dryRun).setDataOnly(dataOnly).build()));
        client.output().printWithDefaults(resp);
      }
      return 0;
    }
  }
}
