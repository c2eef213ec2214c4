package dev.arbor.storage;

import java.io.IOException;
import java.util.List;

/** Opens the package-private WAL batch codec to the fuzz campaign in dev.arbor.fuzz. */
public final class WalFuzzHooks {
  private WalFuzzHooks() {}

  public static byte[] encode(List<ShardWrite> writes) {
    return WalBatchCodec.encode(writes);
  }

  public static List<ShardWrite> decode(byte[] payload) throws IOException {
    return WalBatchCodec.decode(payload);
  }
}
