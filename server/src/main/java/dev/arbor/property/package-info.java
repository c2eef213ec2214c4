/**
 * Property values and the rules every component shares: entity keys, shard routing, the content
 * hash, the last-write-wins order and the version clock. Imports nothing else of Arbor's.
 *
 * <p>Also the test-only {@link dev.arbor.property.DefectSwitches} (lowest package, so every site of
 * a fixed defect can take them): never set in production, where they are always NONE.
 */
package dev.arbor.property;
