/**
 * Property values and the rules every component shares: entity keys, shard routing, the content
 * hash, the last-write-wins order and the version clock. Imports nothing else of Arbor's.
 */
package dev.arbor.property;
