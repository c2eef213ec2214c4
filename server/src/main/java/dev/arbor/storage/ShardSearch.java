package dev.arbor.storage;

import org.apache.lucene.search.Query;

/** A query to run against one shard index (queries may differ per group: tag types do). */
public record ShardSearch(ShardIndex shard, Query query) {}
