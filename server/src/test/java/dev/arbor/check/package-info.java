/**
 * Checkers of recorded histories: what clients were told (acknowledged, failed, unknown) against
 * what every replica holds afterwards. Plain JDK, no Arbor types, so the multi-process fault
 * tests and the deterministic simulation use the same rules.
 */
package dev.arbor.check;
