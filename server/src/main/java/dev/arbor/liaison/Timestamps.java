package dev.arbor.liaison;

import com.google.protobuf.Timestamp;

/** Conversions between ns since the epoch and protobuf timestamps. */
final class Timestamps {
  private Timestamps() {}

  static Timestamp ofNanos(long nanos) {
    return Timestamp.newBuilder()
        .setSeconds(Math.floorDiv(nanos, 1_000_000_000L))
        .setNanos((int) Math.floorMod(nanos, 1_000_000_000L))
        .build();
  }
}
