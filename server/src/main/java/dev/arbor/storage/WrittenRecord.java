package dev.arbor.storage;

import dev.arbor.property.PropertyRecord;

/**
 * One record a write stored, with the record it replaced: what derived state kept per key (the
 * repair trees) needs to follow the write without reading the index again.
 *
 * @param before the key's record before the write, null when the key had none
 * @param after the record stored
 */
public record WrittenRecord(PropertyRecord before, PropertyRecord after) {}
