package dev.arbor.liaison;

import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.cluster.DataNodeCalls;
import dev.arbor.cluster.WriteReply;
import io.grpc.Deadline;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Sends several callers' records to a data node as one Write (one WAL frame and one fsync there)
 * and hands each caller the outcomes of its own records, exactly as the node answered them. The
 * node answers only after its fsync of the whole request, so no caller is acknowledged before its
 * records are durable. All records of one Write share {@code fresh}, so fresh and copied records
 * travel in separate lanes.
 */
final class WriteBatchSender implements BatchLane.Sender<List<StoredProperty>, WriteReply> {
  private final boolean fresh;

  WriteBatchSender(boolean fresh) {
    this.fresh = fresh;
  }

  @Override
  public CompletableFuture<List<WriteReply>> send(DataNodeCalls client, List<List<StoredProperty>> shares,
      Deadline deadline) {
    List<StoredProperty> all = new ArrayList<>();
    shares.forEach(all::addAll);
    return client.write(all, fresh, deadline).thenApply(reply -> {
      List<WriteReply> out = new ArrayList<>(shares.size());
      int from = 0;
      for (List<StoredProperty> share : shares) {
        out.add(reply.slice(from, from + share.size()));
        from += share.size();
      }
      return out;
    });
  }

  @Override
  public int records(List<StoredProperty> share) {
    return share.size();
  }

  @Override
  public long bytes(List<StoredProperty> share) {
    long n = 0;
    for (StoredProperty p : share) {
      n += p.getSerializedSize();
    }
    return n;
  }
}
