/**
 * Shard copies this node no longer owns (it left the shard's placement, or was away longer than
 * the tombstone grace): they are fenced, their recent records handed to the current owners over
 * the internal write API, and then dropped, so an orphaned copy never brings back a property
 * whose delete it missed.
 */
package dev.arbor.repair.handoff;
