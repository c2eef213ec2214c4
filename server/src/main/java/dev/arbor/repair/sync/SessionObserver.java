package dev.arbor.repair.sync;

/** Hears how sessions end, on either side (metrics). Must be quick and never throw. */
public interface SessionObserver {
  SessionObserver NONE = new SessionObserver() {};

  /** A client session ended; {@code error} is null on success. */
  default void clientSessionEnded(String group, int shard, String peer, SessionFigures figures, String error) {}

  /** Records received in a session that failed their checks (never stored). */
  default void recordsRejected(String group, int shard, long count) {}

  /**
   * A session was refused because the peer's repair trees are of another format (a rolling
   * upgrade in progress); {@code role} is "client" or "server", {@code peerFormat} 0 when the peer
   * predates format negotiation.
   */
  default void treeFormatMismatch(String group, int shard, String peer, String role, int peerFormat) {}

  /**
   * A session runs an older session protocol than this node's newest because the peer speaks no
   * newer one (a rolling upgrade in progress); {@code role} is "client" or "server".
   */
  default void protocolFallback(String group, int shard, String peer, String role, int protocol) {}

  /**
   * A session was refused because the two nodes speak no session protocol in common;
   * {@code peerProtocol} is the peer's announced version.
   */
  default void protocolMismatch(String group, int shard, String peer, String role, int peerProtocol) {}

  /** A bulk transfer of (group, shard) ended attached; {@code role} is "sent" or "received". */
  default void bulkTransferred(String group, int shard, String role, long files, long bytes) {}

  /**
   * A server session ended.
   *
   * @param stored records stored from the client's pushes
   * @param sent records sent to the client (fetched or newer)
   */
  default void serverSessionEnded(String group, int shard, String client, long stored, long sent,
      long bytesIn, long bytesOut, String error) {}
}
