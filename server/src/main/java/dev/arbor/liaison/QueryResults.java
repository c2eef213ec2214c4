package dev.arbor.liaison;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.arbor.api.banyandb.model.v1.Tag;
import dev.arbor.api.banyandb.property.v1.Property;
import dev.arbor.api.banyandb.property.v1.QueryRequest;
import dev.arbor.errors.InvalidArgumentException;
import dev.arbor.query.QueryLimit;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.StorageException;
import java.util.Set;

/** What the local and the replicated query paths share: request limits, decoding, projection. */
final class QueryResults {
  private QueryResults() {}

  static void checkLimits(QueryRequest req, RequestLimits limits) {
    if (req.getGroupsCount() == 0) {
      throw new InvalidArgumentException("groups must name at least one property group");
    }
    if (req.getIdsCount() > limits.maxIdsPerQuery()) {
      throw new InvalidArgumentException(
          "ids: " + req.getIdsCount() + " ids exceed the limit of " + limits.maxIdsPerQuery());
    }
    QueryLimit.checked(req.getLimit(), limits.maxQueryLimit());
  }

  static Property decode(PropertyRecord r) {
    try {
      return Property.parseFrom(r.source());
    } catch (InvalidProtocolBufferException e) {
      throw new StorageException("stored property " + r.key() + " is unreadable", e);
    }
  }

  /** The tags listed (in stored order); all tags when the projection is empty. */
  static Property project(Property p, Set<String> projection) {
    if (projection.isEmpty()) {
      return p;
    }
    Property.Builder b = p.toBuilder().clearTags();
    for (Tag t : p.getTagsList()) {
      if (projection.contains(t.getKey())) {
        b.addTags(t);
      }
    }
    return b.build();
  }
}
