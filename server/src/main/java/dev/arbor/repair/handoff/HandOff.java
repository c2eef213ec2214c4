package dev.arbor.repair.handoff;

import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.cluster.v1.WriteOutcome;
import dev.arbor.cluster.DataNode;
import dev.arbor.cluster.StoredProperties;
import dev.arbor.property.PropertyRecord;
import dev.arbor.storage.DocumentCodec;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardIndex;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.LongSupplier;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.TermRangeQuery;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pushes the recent records of one orphaned copy to the shard's current owners, in key order and
 * bounded batches, through their internal write API (last-write-wins there).
 *
 * <p>Only records written or deleted within the grace, less the clock skew, go: an older live
 * record may be one whose delete the owners already purged, and pushing it would bring it back.
 * A batch is delivered once one owner holds it (stored, equal, or it held newer): repair spreads it
 * to the others. A batch no owner takes is retried with backoff until {@code giveUpAt}.
 */
public final class HandOff {
  private static final Logger LOG = LoggerFactory.getLogger(HandOff.class);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

  private final PropertyStore store;
  private final CopyOwnership ownership;
  private final OwnerWriter writer;
  private final HandOffSettings settings;
  private final LongSupplier nanoTime;
  private final Backoff backoff;

  public HandOff(PropertyStore store, CopyOwnership ownership, OwnerWriter writer, HandOffSettings settings,
      LongSupplier nanoTime, Backoff backoff) {
    this.store = store;
    this.ownership = ownership;
    this.writer = writer;
    this.settings = settings;
    this.nanoTime = nanoTime;
    this.backoff = backoff;
  }

  /**
   * @param newerThan records whose revision and delete time are both at or below this (wall
   *     clock, ns) are not pushed
   * @param giveUpAt {@code nanoTime} after which undelivered records are given up
   */
  public HandOffResult run(ShardRef s, long newerThan, long giveUpAt) throws IOException {
    long pushed = 0;
    long tooOld = 0;
    long undelivered = 0;
    String after = null;
    while (true) {
      ShardIndex idx = store.existingShard(s.group(), s.shard());
      if (idx == null) {
        break; // dropped meanwhile (group deleted)
      }
      Query q = after == null ? new MatchAllDocsQuery()
          : TermRangeQuery.newStringRange(DocumentCodec.KEY, after, null, false, false);
      List<PropertyRecord> page = idx.search(q, settings.batchSize(), ShardIndex.KEY_ORDER);
      if (page.isEmpty()) {
        break;
      }
      after = page.get(page.size() - 1).key().entity();
      List<StoredProperty> recent = new ArrayList<>(page.size());
      for (PropertyRecord r : page) {
        if (Math.max(r.modRevision(), r.deleteTime()) > newerThan) {
          recent.add(StoredProperties.toProto(s.group(), s.shard(), r, store.incarnation(s.group())));
        } else {
          tooOld++;
        }
      }
      if (recent.isEmpty()) {
        continue;
      }
      if (deliver(s, recent, giveUpAt)) {
        pushed += recent.size();
      } else {
        undelivered += recent.size();
      }
    }
    return new HandOffResult(pushed, tooOld, undelivered);
  }

  private boolean deliver(ShardRef s, List<StoredProperty> batch, long giveUpAt) {
    Duration wait = settings.retryBackoff();
    while (true) {
      List<DataNode> owners = ownership.otherOwners(s);
      List<String> failures = new ArrayList<>();
      boolean delivered = false;
      for (DataNode owner : owners) {
        Optional<String> failure = pushTo(owner, batch);
        if (failure.isEmpty()) {
          delivered = true;
        } else {
          failures.add(owner.id() + ": " + failure.get());
        }
      }
      if (delivered) {
        if (!failures.isEmpty()) {
          LOG.info("hand-off of {}: {} record(s) reached an owner but not {}; repair spreads them", s, batch.size(),
              failures);
        }
        return true;
      }
      if (nanoTime.getAsLong() - giveUpAt >= 0) {
        return false;
      }
      LOG.warn("hand-off of {}: no owner took {} record(s) ({}); retrying in {} ms", s, batch.size(),
          owners.isEmpty() ? "no other owner registered" : failures, wait.toMillis());
      if (!backoff.await(wait)) {
        return false;
      }
      wait = wait.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : wait.multipliedBy(2);
    }
  }

  /** Empty when the owner holds every record of the batch now, else why not. */
  private Optional<String> pushTo(DataNode owner, List<StoredProperty> batch) {
    try {
      // This hand-off runs on its own thread, one batch at a time: it waits for the owner here.
      List<WriteOutcome> outcomes = dev.arbor.transport.PeerFutures.await(writer.write(owner, batch));
      for (WriteOutcome o : outcomes) {
        if (o != WriteOutcome.WRITE_OUTCOME_STORED && o != WriteOutcome.WRITE_OUTCOME_NOT_STORED_EQUAL
            && o != WriteOutcome.WRITE_OUTCOME_NOT_STORED_NEWER) {
          return Optional.of("outcome " + o);
        }
      }
      return outcomes.size() == batch.size() ? Optional.empty()
          : Optional.of(outcomes.size() + " outcomes for " + batch.size() + " records");
    } catch (RuntimeException e) {
      return Optional.of(String.valueOf(e.getMessage()));
    }
  }
}
