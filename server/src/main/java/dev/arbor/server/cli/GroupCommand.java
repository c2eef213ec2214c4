package dev.arbor.server.cli;

import picocli.CommandLine.Command;

/** Client commands for groups (placeholder: being written). */
@Command(name = "group", description = "Manage groups on a running Arbor server.")
public final class GroupCommand {}
