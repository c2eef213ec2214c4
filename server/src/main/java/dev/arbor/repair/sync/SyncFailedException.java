package dev.arbor.repair.sync;

/**
 * A session with one peer failed. {@link #abortsRound()} tells the gossip layer whether to try
 * the next peer (peer unreachable, stream broken) or to stop the whole round (this node cannot
 * take part: its own tree cannot be built, or the trees are not comparable).
 */
public class SyncFailedException extends RuntimeException {
  private final boolean abortsRound;

  public SyncFailedException(String message, boolean abortsRound, Throwable cause) {
    super(message, cause);
    this.abortsRound = abortsRound;
  }

  public boolean abortsRound() {
    return abortsRound;
  }
}
