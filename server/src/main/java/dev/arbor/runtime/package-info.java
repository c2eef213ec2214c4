/**
 * One runtime per node: the monotonic {@link dev.arbor.runtime.Ticker}, the
 * {@link dev.arbor.runtime.WallClock}, and the factory of the node's schedulers, executors and
 * threads ({@link dev.arbor.runtime.NodeRuntime}), which also owns their shutdown order. A
 * composition root builds one {@code NodeRuntime} and passes it by constructor to everything that
 * reads the clock or starts threads, so a deterministic simulator can run the same code on virtual
 * time with a runtime of its own (the test-scope {@code ManualRuntime}).
 *
 * <p>Owns: time and thread creation, nothing else. Imports nothing of Arbor, so every package may
 * use it; it must never import another Arbor package, and holds no static mutable state (the
 * {@code system()} values are stateless). Blocking waits on a condition or a future still use real
 * time (a virtual clock cannot wake a parked thread); what the simulator drives, it drives through
 * methods that do not block.
 */
package dev.arbor.runtime;
