package dev.arbor.storage;

import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.property.PropertyRecord;

/**
 * A record destined for one (group, shard) index.
 *
 * @param parsedSource the record's source already parsed by whoever checked it (a write received
 *     from a peer is parsed once to be validated), or null: the index then parses the source
 *     itself. Parsing was ≈ 7 % of a receiver's CPU each time.
 */
public record ShardWrite(String group, int shard, PropertyRecord record, Property parsedSource) {
  public ShardWrite(String group, int shard, PropertyRecord record) {
    this(group, shard, record, null);
  }
}
