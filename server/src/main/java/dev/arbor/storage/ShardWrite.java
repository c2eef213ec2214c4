package dev.arbor.storage;

import dev.arbor.property.PropertyRecord;

/** A record destined for one (group, shard) index. */
public record ShardWrite(String group, int shard, PropertyRecord record) {}
