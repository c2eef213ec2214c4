package dev.arbor.repair.sync;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.arbor.api.repair.v1.BulkData;
import dev.arbor.api.repair.v1.BulkFile;
import dev.arbor.api.repair.v1.BulkManifest;
import dev.arbor.api.repair.v1.BulkOffer;
import dev.arbor.api.repair.v1.BulkPull;
import dev.arbor.api.repair.v1.BulkRead;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardFiles;
import java.io.IOException;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.lucene.store.IndexInput;

/**
 * The server's side of a pulled bulk transfer (the client's copy is empty): holds a commit of the
 * shard for the rest of the session and answers reads of its files, one chunk each. The client
 * stages, verifies and attaches them itself ({@link BulkPuller}).
 */
final class BulkSource implements AutoCloseable {
  private final PropertyStore store;
  private final BulkSettings settings;
  private final String group;
  private final int shard;
  private final Supplier<String> fence;
  private final Predicate<String> keyBelongs;
  private ShardFiles files;
  private IndexInput open;
  private int openFile = -1;
  private final java.util.BitSet filesRead = new java.util.BitSet();
  private long bytes;

  BulkSource(PropertyStore store, BulkSettings settings, String group, int shard, Supplier<String> fence,
      Predicate<String> keyBelongs) {
    this.store = store;
    this.settings = settings;
    this.group = group;
    this.shard = shard;
    this.fence = fence;
    this.keyBelongs = keyBelongs;
  }

  BulkManifest manifest(BulkPull pull, Optional<GroupIncarnation> mine) throws IOException {
    if (files != null) {
      throw new RepairSessionServer.SessionProtocolException("bulk_pull sent twice");
    }
    String refusal = refusal(pull, mine);
    if (refusal != null) {
      close();
      return BulkManifest.newBuilder().setAvailable(false).setReason(refusal).build();
    }
    BulkOffer.Builder offer = BulkOffer.newBuilder().setLayout(files.layout()).setDocuments(files.documents());
    mine.ifPresent(i -> offer.setGroupIncarnation(ByteString.copyFrom(i.toBytes())));
    for (ShardFiles.FileSpec f : files.files()) {
      offer.addFiles(BulkFile.newBuilder().setName(f.name()).setLength(f.length()));
    }
    return BulkManifest.newBuilder().setAvailable(true).setFiles(offer).build();
  }

  private String refusal(BulkPull pull, Optional<GroupIncarnation> mine) throws IOException {
    if (!settings.enabled()) {
      return "bulk transfer is off on this node (--repair-bulk-transfer off)";
    }
    String fenced = fence.get();
    if (fenced != null) {
      return fenced;
    }
    Optional<GroupIncarnation> claim;
    try {
      claim = GroupIncarnation.ofOptionalBytes(pull.getGroupIncarnation().toByteArray());
    } catch (IllegalArgumentException e) {
      throw new RepairSessionServer.SessionProtocolException("bulk_pull.group_incarnation: " + e.getMessage());
    }
    if (claim.isPresent() && !claim.equals(mine)) {
      return "group " + group + " is incarnation " + mine.map(GroupIncarnation::toString).orElse("(unknown)")
          + " on this node, not " + claim.get();
    }
    files = store.bulkSnapshot(group, shard);
    if (files == null || files.documents() == 0) {
      return "this node's copy of " + group + "/" + shard + " has no committed document";
    }
    if (files.layout() != pull.getLayout()) {
      return "this node's files of " + group + "/" + shard + " are layout " + files.layout() + ", the client reads "
          + pull.getLayout();
    }
    String stranger = files.firstKeyNotMatching(keyBelongs);
    if (stranger != null) {
      return "this node's copy of " + group + "/" + shard + " holds " + stranger
          + ", which does not belong to the shard; repair it with records";
    }
    return null;
  }

  BulkData read(BulkRead r) throws IOException {
    if (files == null) {
      throw new RepairSessionServer.SessionProtocolException("bulk_read without an available bulk_manifest");
    }
    if (r.getFile() >= files.files().size()) {
      throw new RepairSessionServer.SessionProtocolException("bulk_read of file " + r.getFile() + ", the commit has "
          + files.files().size());
    }
    ShardFiles.FileSpec spec = files.files().get(r.getFile());
    if (r.getOffset() < 0 || r.getOffset() >= spec.length()) {
      throw new RepairSessionServer.SessionProtocolException("bulk_read of " + spec.name() + " at " + r.getOffset()
          + ", its length is " + spec.length());
    }
    if (openFile != r.getFile()) {
      if (open != null) {
        open.close();
      }
      open = files.open(spec.name());
      openFile = r.getFile();
    }
    int n = (int) Math.min(BulkSettings.CHUNK_BYTES, spec.length() - r.getOffset());
    byte[] buf = new byte[n];
    open.seek(r.getOffset());
    open.readBytes(buf, 0, n);
    bytes += n;
    filesRead.set(r.getFile());
    // Wrapped, not copied: buf is this chunk's own and never written again.
    return BulkData.newBuilder().setData(UnsafeByteOperations.unsafeWrap(buf)).build();
  }

  long bytes() {
    return bytes;
  }

  int files() {
    return filesRead.cardinality();
  }

  /** Releases the held commit. */
  @Override
  public void close() throws IOException {
    try {
      if (open != null) {
        open.close();
        open = null;
      }
    } finally {
      if (files != null) {
        files.close();
        files = null;
      }
    }
  }
}
