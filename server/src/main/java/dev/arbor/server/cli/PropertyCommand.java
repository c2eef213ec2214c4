package dev.arbor.server.cli;

import dev.arbor.api.banyandb.common.v1.Metadata;
import dev.arbor.api.banyandb.model.v1.Criteria;
import dev.arbor.api.banyandb.model.v1.Sort;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.property.v1.ApplyRequest;
import dev.arbor.api.banyandb.property.v1.ApplyResponse;
import dev.arbor.api.banyandb.property.v1.DeleteRequest;
import dev.arbor.api.banyandb.property.v1.DeleteResponse;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.QueryOrder;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.api.banyandb.property.v1.QueryResponse;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code arbor property apply|get|query|delete}: property data through BanyanDB's
 * {@code PropertyService}. Input and output use the protobuf JSON mapping of
 * {@code banyandb.property.v1} messages.
 */
@Command(
    name = "property",
    mixinStandardHelpOptions = true,
    description = "Write, read and delete properties on a running Arbor server.",
    subcommands = {
      PropertyCommand.Apply.class,
      PropertyCommand.Get.class,
      PropertyCommand.Query.class,
      PropertyCommand.Delete.class
    })
public final class PropertyCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
  }

  /** Accepts merge/replace in any case, and the STRATEGY_* enum names. */
  static final class StrategyConverter implements CommandLine.ITypeConverter<ApplyRequest.Strategy> {
    @Override
    public ApplyRequest.Strategy convert(String value) {
      String v = value.strip().toUpperCase(Locale.ROOT);
      return switch (v.startsWith("STRATEGY_") ? v.substring("STRATEGY_".length()) : v) {
        case "MERGE" -> ApplyRequest.Strategy.STRATEGY_MERGE;
        case "REPLACE" -> ApplyRequest.Strategy.STRATEGY_REPLACE;
        default -> throw new CommandLine.TypeConversionException(
            "unknown strategy '" + value + "' (use merge or replace)");
      };
    }
  }

  /** Converts {@code key=value} / {@code key:TYPE=value} into a tag. */
  static final class TagConverter implements CommandLine.ITypeConverter<Tag> {
    @Override
    public Tag convert(String value) {
      try {
        return TagValues.parseTag(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  @Command(
      name = "apply",
      mixinStandardHelpOptions = true,
      description = {
        "Create or update one property, from JSON (a banyandb.property.v1.Property) or options.",
        "Prints the ApplyResponse: {\"created\": ..., \"tagsNum\": ...}."
      })
  static final class Apply implements Callable<Integer> {
    @Mixin ClientOptions client;
    @Mixin JsonInput input;

    @Option(
        names = "--strategy",
        paramLabel = "merge|replace",
        defaultValue = "merge",
        converter = StrategyConverter.class,
        description = {
          "merge: keep stored tags that are not sent; replace: store exactly the sent tags.",
          "Default: ${DEFAULT-VALUE}."
        })
    ApplyRequest.Strategy strategy;

    @Option(names = "--group", paramLabel = "GROUP", description = "Property group.")
    String group;

    @Option(names = "--name", paramLabel = "NAME", description = "Property name (schema).")
    String name;

    @Option(names = "--id", paramLabel = "ID", description = "Property id.")
    String id;

    @Option(
        names = "--tag",
        paramLabel = "KEY[:TYPE]=VALUE",
        converter = TagConverter.class,
        description = {
          "A tag (repeatable). Without :TYPE the value is a string.",
          "TYPE: string, int, string_array, int_array (comma-separated), binary (base64),",
          "timestamp (ISO-8601, e.g. 2025-01-31T12:00:00Z)."
        })
    List<Tag> tags = new ArrayList<>();

    @Override
    public Integer call() {
      List<String> flags = JsonInput.givenFlags("--group", group, "--name", name, "--id", id, "--tag", tags);
      input.requireExclusive(flags, "--group G --name N --id I --tag key=value ...");
      Property property =
          input.given() ? input.parseInto(Property.newBuilder(), "property").build() : fromOptions();
      ApplyRequest req =
          ApplyRequest.newBuilder().setProperty(property).setStrategy(strategy).build();
      try (ApiChannel api = client.connect()) {
        ApplyResponse resp = api.call(() -> api.properties().apply(req));
        client.output().printWithDefaults(resp);
      }
      return 0;
    }

    private Property fromOptions() {
      if (group == null || name == null || id == null) {
        throw input.usage("--group, --name and --id are all required (or give --json/--file/-)");
      }
      return Property.newBuilder()
          .setMetadata(Metadata.newBuilder().setGroup(group).setName(name))
          .setId(id)
          .addAllTags(tags)
          .build();
    }
  }

  @Command(
      name = "get",
      mixinStandardHelpOptions = true,
      description = "Print one property; exits 1 with NOT_FOUND when it does not exist.")
  static final class Get implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(names = "--group", required = true, paramLabel = "GROUP", description = "Group.")
    String group;

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "Property name.")
    String name;

    @Option(names = "--id", required = true, paramLabel = "ID", description = "Property id.")
    String id;

    @Override
    public Integer call() {
      QueryRequest req =
          QueryRequest.newBuilder().addGroups(group).setName(name).addIds(id).setLimit(1).build();
      try (ApiChannel api = client.connect()) {
        QueryResponse resp = api.call(() -> api.properties().query(req));
        if (resp.getPropertiesCount() == 0) {
          throw Status.NOT_FOUND
              .withDescription("property " + group + "/" + name + "/" + id + " not found")
              .asRuntimeException();
        }
        client.output().print(resp.getProperties(0));
      }
      return 0;
    }
  }

  @Command(
      name = "query",
      mixinStandardHelpOptions = true,
      description = {
        "Query properties, from JSON (a banyandb.property.v1.QueryRequest) or options.",
        "Prints {\"properties\": [...]}."
      })
  static final class Query implements Callable<Integer> {
    @Mixin ClientOptions client;
    @Mixin JsonInput input;

    @Option(names = "--group", paramLabel = "GROUP", description = "Group to search (repeatable).")
    List<String> groups = new ArrayList<>();

    @Option(names = "--name", paramLabel = "NAME", description = "Property name.")
    String name;

    @Option(names = "--id", paramLabel = "ID", description = "Property id (repeatable; OR-ed).")
    List<String> ids = new ArrayList<>();

    @Option(
        names = "--limit",
        paramLabel = "N",
        description = "Most properties to return (0 or absent: the server's default, 100).")
    Integer limit;

    @Option(
        names = "--projection",
        paramLabel = "TAG",
        split = ",",
        description = "Tags to return (repeatable or comma-separated; default: all).")
    List<String> projection = new ArrayList<>();

    @Option(
        names = "--criteria",
        paramLabel = "JSON",
        description = "A banyandb.model.v1.Criteria in JSON, e.g. "
            + "'{\"condition\":{\"name\":\"title\",\"op\":\"BINARY_OP_EQ\","
            + "\"value\":{\"str\":{\"value\":\"Home\"}}}}'.")
    String criteria;

    @Option(
        names = "--order-by",
        paramLabel = "TAG[:asc|desc]",
        description = "Sort the result by a tag (ascending unless :desc).")
    String orderBy;

    @Override
    public Integer call() {
      List<String> flags = JsonInput.givenFlags("--group", groups, "--name", name, "--id", ids,
          "--limit", limit, "--projection", projection, "--criteria", criteria, "--order-by", orderBy);
      input.requireExclusive(flags, "--group G [--name N] [--id I ...] ...");
      QueryRequest req =
          input.given()
              ? input.parseInto(QueryRequest.newBuilder(), "query").build()
              : fromOptions();
      try (ApiChannel api = client.connect()) {
        QueryResponse resp = api.call(() -> api.properties().query(req));
        client.output().printList("properties", resp.getPropertiesList());
      }
      return 0;
    }

    private QueryRequest fromOptions() {
      if (groups.isEmpty()) {
        throw input.usage("--group is required (or give --json/--file/-)");
      }
      if (limit != null && limit < 0) {
        throw input.usage("--limit must not be negative");
      }
      QueryRequest.Builder q =
          QueryRequest.newBuilder().addAllGroups(groups).addAllIds(ids).addAllTagProjection(projection);
      if (name != null) {
        q.setName(name);
      }
      if (limit != null) {
        q.setLimit(limit);
      }
      if (criteria != null) {
        q.setCriteria(JsonInput.parse(criteria, Criteria.newBuilder(), "--criteria"));
      }
      if (orderBy != null) {
        q.setOrderBy(parseOrder(orderBy));
      }
      return q.build();
    }

    private QueryOrder parseOrder(String spec) {
      int colon = spec.lastIndexOf(':');
      String tag = colon < 0 ? spec : spec.substring(0, colon);
      String dir = colon < 0 ? "asc" : spec.substring(colon + 1).toLowerCase(Locale.ROOT);
      Sort sort =
          switch (dir) {
            case "asc" -> Sort.SORT_ASC;
            case "desc" -> Sort.SORT_DESC;
            default -> throw input.usage("--order-by direction must be asc or desc, got '" + dir + "'");
          };
      if (tag.isEmpty()) {
        throw input.usage("--order-by needs a tag name");
      }
      return QueryOrder.newBuilder().setTagName(tag).setSort(sort).build();
    }
  }

  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      description = {
        "Delete one property, or without --id every property of that name in the group.",
        "Prints {\"deleted\": true|false} (false: nothing matched)."
      })
  static final class Delete implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(names = "--group", required = true, paramLabel = "GROUP", description = "Group.")
    String group;

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "Property name.")
    String name;

    @Option(names = "--id", paramLabel = "ID", description = "Property id (default: all ids).")
    String id;

    @Override
    public Integer call() {
      DeleteRequest.Builder req = DeleteRequest.newBuilder().setGroup(group).setName(name);
      if (id != null) {
        req.setId(id);
      }
      try (ApiChannel api = client.connect()) {
        DeleteResponse resp = api.call(() -> api.properties().delete(req.build()));
        client.output().printWithDefaults(resp);
      }
      return 0;
    }
  }
}
