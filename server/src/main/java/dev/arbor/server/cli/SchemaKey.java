package dev.arbor.server.cli;

import dev.arbor.api.banyandb.common.v1.Metadata;
import picocli.CommandLine.Option;

/** {@code --group G --name N}: the schema a command addresses. */
final class SchemaKey {
  @Option(names = "--group", required = true, paramLabel = "GROUP", description = "Group.")
  String group;

  @Option(names = "--name", required = true, paramLabel = "NAME", description = "Property name.")
  String name;

  Metadata metadata() {
    return Metadata.newBuilder().setGroup(group).setName(name).build();
  }
}
