package dev.arbor.transport;

/** Message sizes every Arbor server and channel agrees on. */
public final class MessageLimits {
  /** Largest message a server or a node-to-node channel accepts. */
  public static final int MAX_MESSAGE_BYTES = 64 << 20;
  /** Same inbound cap as the official client, so anything it can read, the CLI can print. */
  public static final int CLIENT_MAX_INBOUND_BYTES = 50 << 20;

  private MessageLimits() {}
}
