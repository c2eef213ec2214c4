package dev.arbor.server.cli;

import picocli.CommandLine.Command;

/** Client commands for schemas (placeholder: being written). */
@Command(name = "schema", description = "Manage schemas on a running Arbor server.")
public final class SchemaCommand {}
