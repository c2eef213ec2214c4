package dev.arbor.server.cli;

import picocli.CommandLine.Command;

/** Client commands for propertys (placeholder: being written). */
@Command(name = "property", description = "Manage propertys on a running Arbor server.")
public final class PropertyCommand {}
