/**
 * The web console served at {@code /} on the HTTP port of every node (standalone, liaison, data):
 * the pages and their assets (classpath resources, nothing from another origin), the JSON they
 * poll under {@code /console/api/}, and the basic-auth and role checks in front of both.
 *
 * <p>Owns presentation only. It reads through {@link dev.arbor.console.ConsoleSources} what the
 * composition root hands it — registry, metadata, replica calls ({@link dev.arbor.console.ReplicaAccess}:
 * this node in-process, peers over the internal listener), the trace store, a repair launcher —
 * and decides nothing about data: roots come from {@code repair.TreeStatusService} (never a tree
 * build), winners from {@code property.LastWriteWins}, rounds run through {@code repair.RepairRun}.
 * It writes nothing to storage or trees and does not import {@code server}.
 */
package dev.arbor.console;
