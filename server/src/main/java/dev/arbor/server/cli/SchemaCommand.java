package dev.arbor.server.cli;

import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.database.v1.Property;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceCreateRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceCreateResponse;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceDeleteRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceDeleteResponse;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceGetRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceGetResponse;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceListRequest;
import dev.arbor.api.banyandb.database.v1.PropertyRegistryServiceListResponse;
import dev.arbor.api.banyandb.database.v1.TagSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code arbor schema create|get|list|delete}: property schemas (BanyanDB's
 * {@code PropertyRegistryService}), i.e. the tag names and types of a property name in a group.
 */
@Command(
    name = "schema",
    mixinStandardHelpOptions = true,
    description = "Manage property schemas on a running Arbor server.",
    subcommands = {
      SchemaCommand.Create.class,
      SchemaCommand.Get.class,
      SchemaCommand.ListSchemas.class,
      SchemaCommand.Delete.class
    })
public final class SchemaCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
  }

  /** Converts {@code name:TYPE} into a tag spec. */
  static final class TagSpecConverter implements CommandLine.ITypeConverter<TagSpec> {
    @Override
    public TagSpec convert(String value) {
      int colon = value.lastIndexOf(':');
      if (colon <= 0 || colon == value.length() - 1) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' must look like name:TYPE, TYPE one of " + TagValues.TYPE_NAMES);
      }
      try {
        return TagSpec.newBuilder()
            .setName(value.substring(0, colon))
            .setType(TagValues.parseType(value.substring(colon + 1)))
            .build();
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  @Command(
      name = "create",
      mixinStandardHelpOptions = true,
      description =
          "Create a property schema, from JSON (a banyandb.database.v1.Property) or from options.")
  static final class Create implements Callable<Integer> {
    @Mixin ClientOptions client;
    @Mixin JsonInput input;

    @Option(names = "--group", paramLabel = "GROUP", description = "Property group.")
    String group;

    @Option(names = "--name", paramLabel = "NAME", description = "Property name.")
    String name;

    @Option(
        names = "--tag",
        paramLabel = "NAME:TYPE",
        converter = TagSpecConverter.class,
        description = {
          "A tag of the schema (repeatable, in order).",
          "TYPE: string, int, string_array, int_array, binary, timestamp (or TAG_TYPE_*)."
        })
    List<TagSpec> tags = new ArrayList<>();

    @Override
    public Integer call() {
      List<String> flags = JsonInput.givenFlags("--group", group, "--name", name, "--tag", tags);
      input.requireExclusive(flags, "--group G --name N --tag name:TYPE ...");
      Property schema =
          input.given() ? input.parseInto(Property.newBuilder(), "schema").build() : fromOptions();
      try (ApiChannel api = client.connect()) {
        PropertyRegistryServiceCreateResponse resp =
            api.call(
                () ->
                    api.schemas()
                        .create(
                            PropertyRegistryServiceCreateRequest.newBuilder()
                                .setProperty(schema)
                                .build()));
        client.output().printWithDefaults(resp);
      }
      return 0;
    }

    private Property fromOptions() {
      if (group == null || name == null) {
        throw input.usage("--group and --name are both required (or give --json/--file)");
      }
      return Property.newBuilder()
          .setMetadata(Metadata.newBuilder().setGroup(group).setName(name))
          .addAllTags(tags)
          .build();
    }
  }

  @Command(name = "get", mixinStandardHelpOptions = true, description = "Print one schema.")
  static final class Get implements Callable<Integer> {
    @Mixin ClientOptions client;
    @Mixin SchemaKey key;

    @Override
    public Integer call() {
      try (ApiChannel api = client.connect()) {
        PropertyRegistryServiceGetResponse resp =
            api.call(
                () ->
                    api.schemas()
                        .get(
                            PropertyRegistryServiceGetRequest.newBuilder()
                                .setMetadata(key.metadata())
                                .build()));
        client.output().print(resp.getProperty());
      }
      return 0;
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Print the schemas of a group as {\"schemas\": [...]}.")
  static final class ListSchemas implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(names = "--group", required = true, paramLabel = "GROUP", description = "Group.")
    String group;

    @Override
    public Integer call() {
      try (ApiChannel api = client.connect()) {
        PropertyRegistryServiceListResponse resp =
            api.call(
                () ->
                    api.schemas()
                        .list(PropertyRegistryServiceListRequest.newBuilder().setGroup(group).build()));
        client.output().printList("schemas", resp.getPropertiesList());
      }
      return 0;
    }
  }

  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      description = "Delete a schema; prints {\"deleted\": true|false}.")
  static final class Delete implements Callable<Integer> {
    @Mixin ClientOptions client;
    @Mixin SchemaKey key;

    @Override
    public Integer call() {
      try (ApiChannel api = client.connect()) {
        PropertyRegistryServiceDeleteResponse resp =
            api.call(
                () ->
                    api.schemas()
                        .delete(
                            PropertyRegistryServiceDeleteRequest.newBuilder()
                                .setMetadata(key.metadata())
                                .build()));
        client.output().printWithDefaults(resp);
      }
      return 0;
    }
  }
}
