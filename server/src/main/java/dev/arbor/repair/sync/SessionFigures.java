package dev.arbor.repair.sync;

/**
 * What one two-node session did, seen from the client.
 *
 * @param rootMatch the roots were equal (nothing else was exchanged)
 * @param slotsDiffering slots whose hashes differed
 * @param leavesCompared server leaves the client merged against its own
 * @param repairedToServer records the server stored
 * @param repairedToClient records the client stored
 * @param bytesSent serialized bytes the client sent
 * @param bytesReceived serialized bytes the client received
 * @param durationNanos wall time of the session
 */
public record SessionFigures(
    boolean rootMatch,
    int slotsDiffering,
    long leavesCompared,
    long repairedToServer,
    long repairedToClient,
    long bytesSent,
    long bytesReceived,
    long durationNanos) {}
