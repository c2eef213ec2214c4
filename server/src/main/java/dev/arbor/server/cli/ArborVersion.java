package dev.arbor.server.cli;

import picocli.CommandLine;

/** Version shown by {@code arbor --version}. */
public final class ArborVersion implements CommandLine.IVersionProvider {
  public static final String VERSION = "0.1.0";
  /** The BanyanDB API version Arbor speaks. */
  public static final String API_VERSION = "0.9";

  @Override
  public String[] getVersion() {
    return new String[] {"arbor " + VERSION + " (BanyanDB property API " + API_VERSION + ")"};
  }
}
