package dev.arbor.server.cli;

import picocli.CommandLine.Command;

/** Runs liaison and data roles in one process with embedded metadata (placeholder). */
@Command(name = "standalone", description = "Run Arbor standalone (liaison + data, embedded metadata).")
public final class StandaloneCommand {}
