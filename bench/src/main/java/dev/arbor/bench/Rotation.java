package dev.arbor.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * The order in which the builds compared take their turn at one step: rotated by the step's
 * index (A B, B A, A B, ... for two), so that no build is always measured first, or always right
 * after the same other build, on a machine whose load drifts.
 */
public final class Rotation {
  private Rotation() {}

  /** {@code list} starting at element {@code by % size}, wrapping around. */
  public static <T> List<T> rotate(List<T> list, int by) {
    List<T> out = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      out.add(list.get((i + by) % list.size()));
    }
    return out;
  }
}
