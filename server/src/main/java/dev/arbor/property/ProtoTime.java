package dev.arbor.property;

import com.google.protobuf.Timestamp;

/** Conversion from Arbor's nanosecond versions to protobuf timestamps. */
public final class ProtoTime {
  private ProtoTime() {}

  public static Timestamp ofNanos(long nanos) {
    return Timestamp.newBuilder()
        .setSeconds(Math.floorDiv(nanos, 1_000_000_000L))
        .setNanos((int) Math.floorMod(nanos, 1_000_000_000L))
        .build();
  }
}
