/**
 * Repair orchestration and its administration endpoints (forced tree builds today; the repair
 * scheduler and sessions later). Drives {@code repair.tree}; never touches Lucene directly.
 */
package dev.arbor.repair;
