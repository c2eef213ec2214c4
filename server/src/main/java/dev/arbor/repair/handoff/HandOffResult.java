package dev.arbor.repair.handoff;

/**
 * What a hand-off did with an orphan's records.
 *
 * @param pushed records at least one owner now holds (stored, equal, or it held newer)
 * @param tooOld records older than the push window, dropped with the copy
 * @param undelivered recent records no owner took before the hand-off gave up
 */
public record HandOffResult(long pushed, long tooOld, long undelivered) {}
