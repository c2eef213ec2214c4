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
 * @param bulk what a bulk transfer moved ({@link BulkFigures#NONE} when records only); its
 *     documents are counted in {@code repairedToServer}, its file bytes in {@code bytesSent}
 * @param recordBytes serialized bytes of the records sent and received (part of the byte counts;
 *     the rest is what finding the differences cost)
 * @param protocol the session protocol used ({@link SessionProtocols})
 */
public record SessionFigures(
    boolean rootMatch,
    int slotsDiffering,
    long leavesCompared,
    long repairedToServer,
    long repairedToClient,
    long bytesSent,
    long bytesReceived,
    long durationNanos,
    BulkFigures bulk,
    long recordBytes,
    int protocol) {
  public SessionFigures(boolean rootMatch, int slotsDiffering, long leavesCompared, long repairedToServer,
      long repairedToClient, long bytesSent, long bytesReceived, long durationNanos, BulkFigures bulk) {
    this(rootMatch, slotsDiffering, leavesCompared, repairedToServer, repairedToClient, bytesSent, bytesReceived,
        durationNanos, bulk, 0, SessionProtocols.SLOTS_AND_BUCKETS);
  }

  public SessionFigures(boolean rootMatch, int slotsDiffering, long leavesCompared, long repairedToServer,
      long repairedToClient, long bytesSent, long bytesReceived, long durationNanos) {
    this(rootMatch, slotsDiffering, leavesCompared, repairedToServer, repairedToClient, bytesSent, bytesReceived,
        durationNanos, BulkFigures.NONE);
  }

  /** A bulk session followed by the record session that checked it: counts added, the bulk kept. */
  SessionFigures then(SessionFigures next) {
    return new SessionFigures(rootMatch, slotsDiffering + next.slotsDiffering, leavesCompared + next.leavesCompared,
        repairedToServer + next.repairedToServer, repairedToClient + next.repairedToClient,
        bytesSent + next.bytesSent, bytesReceived + next.bytesReceived, durationNanos + next.durationNanos, bulk,
        recordBytes + next.recordBytes, next.protocol);
  }
}
