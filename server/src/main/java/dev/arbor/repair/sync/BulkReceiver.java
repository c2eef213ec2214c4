package dev.arbor.repair.sync;

import dev.arbor.api.repair.v1.BulkAttached;
import dev.arbor.api.repair.v1.BulkChunk;
import dev.arbor.api.repair.v1.BulkChunkAck;
import dev.arbor.api.repair.v1.BulkFile;
import dev.arbor.api.repair.v1.BulkOffer;
import dev.arbor.api.repair.v1.BulkOfferReply;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.storage.BulkIntake;
import dev.arbor.storage.BulkRefusedException;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardFiles;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The server's side of a bulk transfer within one session (see {@link BulkSender}): decides on
 * the offer, stages the chunks through a {@link BulkIntake}, attaches on request. The session's
 * own checks (group known, shard in range, incarnation, copy not fenced) already passed when the
 * session opened; the fence is checked again here, at the offer and at the attach.
 */
final class BulkReceiver implements AutoCloseable {
  private final PropertyStore store;
  private final BulkSettings settings;
  private final String group;
  private final int shard;
  private final Supplier<String> fence;
  private final java.util.function.Predicate<String> keyBelongs;
  private BulkIntake intake;
  private BulkFigures attached;

  /**
   * @param fence null when this node's copy may take part in repair, else why not
   * @param keyBelongs whether an entity key belongs to the shard (group and routing)
   */
  BulkReceiver(PropertyStore store, BulkSettings settings, String group, int shard, Supplier<String> fence,
      java.util.function.Predicate<String> keyBelongs) {
    this.keyBelongs = keyBelongs;
    this.store = store;
    this.settings = settings;
    this.group = group;
    this.shard = shard;
    this.fence = fence;
  }

  BulkOfferReply offer(BulkOffer o, boolean treeEmpty) {
    if (intake != null || attached != null) {
      throw new RepairSessionServer.SessionProtocolException("bulk_offer sent twice");
    }
    String refusal = refusal(o, treeEmpty);
    if (refusal != null) {
      return BulkOfferReply.newBuilder().setAccepted(false).setReason(refusal).build();
    }
    return BulkOfferReply.newBuilder().setAccepted(true).build();
  }

  private String refusal(BulkOffer o, boolean treeEmpty) {
    if (!settings.enabled()) {
      return "bulk transfer is off on this node (--repair-bulk-transfer off)";
    }
    String fenced = fence.get();
    if (fenced != null) {
      return fenced;
    }
    if (!treeEmpty) {
      return "this node's tree of " + group + "/" + shard + " is not empty; bulk transfer only fills an empty copy";
    }
    Optional<GroupIncarnation> claim;
    try {
      claim = GroupIncarnation.ofOptionalBytes(o.getGroupIncarnation().toByteArray());
    } catch (IllegalArgumentException e) {
      throw new RepairSessionServer.SessionProtocolException("bulk_offer.group_incarnation: " + e.getMessage());
    }
    List<ShardFiles.FileSpec> files = new ArrayList<>(o.getFilesCount());
    for (BulkFile f : o.getFilesList()) {
      files.add(new ShardFiles.FileSpec(f.getName(), f.getLength()));
    }
    try {
      intake = store.beginBulkIntake(group, shard, claim, o.getLayout(), files);
      return null;
    } catch (BulkRefusedException e) {
      return e.getMessage();
    }
  }

  BulkChunkAck chunk(BulkChunk c) throws IOException {
    if (intake == null) {
      throw new RepairSessionServer.SessionProtocolException("bulk_chunk without an accepted bulk_offer");
    }
    try {
      intake.write(c.getFile(), c.getOffset(), c.getData().toByteArray());
    } catch (IllegalArgumentException e) {
      throw new RepairSessionServer.SessionProtocolException(e.getMessage());
    }
    if (!settings.chunkDelay().isZero()) {
      try {
        Thread.sleep(settings.chunkDelay().toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return BulkChunkAck.newBuilder().setFilesVerified(intake.verifiedFiles()).build();
  }

  BulkAttached attach() throws IOException {
    if (intake == null || !intake.complete()) {
      throw new RepairSessionServer.SessionProtocolException("bulk_attach before every offered file arrived");
    }
    BulkIntake in = intake;
    intake = null;
    String fenced = fence.get();
    if (fenced != null) {
      in.close();
      throw new BulkRefusedException(fenced);
    }
    BulkIntake.Attached a = store.attachBulk(in, keyBelongs);
    attached = new BulkFigures(in.fileCount(), in.bytes(), a.documents(), a.keysResolved());
    return BulkAttached.newBuilder().setDocuments(a.documents()).setKeysResolved(a.keysResolved()).build();
  }

  /** The attached transfer, or null. */
  BulkFigures attached() {
    return attached;
  }

  /** Drops a transfer that was not attached (the session ended early). */
  @Override
  public void close() {
    if (intake != null) {
      try {
        intake.close();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      intake = null;
    }
  }
}
