/**
 * The web console served at {@code /} on the HTTP port of every node (standalone, liaison, data):
 * the pages and their assets (classpath resources, nothing from another origin), the JSON they
 * poll under {@code /console/api/}, and the basic-auth and role checks in front of both. Owns
 * presentation only: it reads through {@link dev.arbor.console.ConsoleSources} what the composition
 * root hands it (registry, metadata, replica calls, the trace store, a repair launcher) and decides
 * nothing about data — winners come from {@code property.LastWriteWins}, rounds run through
 * {@code repair.RepairRun}. Must not touch storage or trees directly, nor import {@code server}.
 */
package dev.arbor.console;
