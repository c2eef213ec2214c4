package dev.arbor.property;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * Which {@link Defect}s are switched back on. <b>Test-only</b>: it exists so a test (the
 * deterministic simulator, a defect's regression test) can prove that it catches a fixed defect
 * when that defect returns. It is never settable from the command line, a configuration file or a
 * system property; composition roots pass {@link #NONE} (or call the constructors without it), and
 * with NONE production behaviour is unchanged. Passed by constructor injection into the classes
 * where each fix lives; immutable.
 */
public final class DefectSwitches {
  /** Every fix in place: what production runs. */
  public static final DefectSwitches NONE = new DefectSwitches(EnumSet.noneOf(Defect.class));

  private final Set<Defect> on;

  private DefectSwitches(EnumSet<Defect> on) {
    this.on = Collections.unmodifiableSet(on);
  }

  /** The given defects switched on (none: {@link #NONE}). */
  public static DefectSwitches of(Defect... defects) {
    if (defects.length == 0) {
      return NONE;
    }
    EnumSet<Defect> s = EnumSet.noneOf(Defect.class);
    s.addAll(Arrays.asList(defects));
    return new DefectSwitches(s);
  }

  /** True when {@code d} is switched back on. */
  public boolean has(Defect d) {
    return on.contains(d);
  }

  /** The defects switched on. */
  public Set<Defect> on() {
    return on;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof DefectSwitches other && on.equals(other.on);
  }

  @Override
  public int hashCode() {
    return on.hashCode();
  }

  @Override
  public String toString() {
    return on.isEmpty() ? "DefectSwitches.NONE" : "DefectSwitches" + on;
  }
}
