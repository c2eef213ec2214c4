package dev.arbor.repair.sync;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import dev.arbor.api.repair.v1.BulkAttach;
import dev.arbor.api.repair.v1.BulkAttached;
import dev.arbor.api.repair.v1.BulkChunk;
import dev.arbor.api.repair.v1.BulkFile;
import dev.arbor.api.repair.v1.BulkOffer;
import dev.arbor.api.repair.v1.BulkOfferReply;
import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SessionResponse;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.storage.ShardFiles;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import org.apache.lucene.store.IndexInput;

/**
 * The client's side of a bulk transfer within a session: offers the files of a held commit of
 * its shard to a server whose copy is empty, streams them in chunks of {@link
 * BulkSettings#CHUNK_BYTES} with at most two unacknowledged (the server writes one while the next
 * is read and sent; memory stays bounded on both sides), then asks the server to attach them.
 * Modelled on Cassandra 4's streaming of entire SSTables: the receiver neither decodes nor
 * re-indexes a record.
 */
final class BulkSender {
  private static final int WINDOW = 2;

  /** Either the figures of an attached transfer, or why the server refused the offer. */
  record Outcome(BulkFigures figures, String refusal) {}

  private final Conversation conversation;

  BulkSender(Conversation conversation) {
    this.conversation = conversation;
  }

  Outcome send(ShardFiles files, Optional<GroupIncarnation> incarnation) throws IOException {
    BulkOffer.Builder offer = BulkOffer.newBuilder().setLayout(files.layout()).setDocuments(files.documents());
    incarnation.ifPresent(i -> offer.setGroupIncarnation(ByteString.copyFrom(i.toBytes())));
    for (ShardFiles.FileSpec f : files.files()) {
      offer.addFiles(BulkFile.newBuilder().setName(f.name()).setLength(f.length()));
    }
    BulkOfferReply reply = expect(conversation.call(SessionRequest.newBuilder().setBulkOffer(offer).build()),
        SessionResponse.BodyCase.BULK_OFFER).getBulkOffer();
    if (!reply.getAccepted()) {
      return new Outcome(null, reply.getReason());
    }
    List<ShardFiles.FileSpec> specs = files.files();
    int unacknowledged = 0;
    long bytes = 0;
    for (int i = 0; i < specs.size(); i++) {
      ShardFiles.FileSpec f = specs.get(i);
      try (IndexInput in = files.open(f.name())) {
        if (in.length() != f.length()) {
          throw new IOException(f.name() + " changed length while held (" + in.length() + ", listed " + f.length() + ")");
        }
        for (long off = 0; off < f.length(); ) {
          int n = (int) Math.min(BulkSettings.CHUNK_BYTES, f.length() - off);
          // A buffer per chunk, wrapped rather than copied into the message (a copy would
          // allocate as much): the message may still be queued for the wire when the next is read.
          byte[] buf = new byte[n];
          in.readBytes(buf, 0, n);
          if (unacknowledged == WINDOW) {
            expect(conversation.receive(), SessionResponse.BodyCase.BULK_CHUNK);
            unacknowledged--;
          }
          conversation.send(SessionRequest.newBuilder().setBulkChunk(BulkChunk.newBuilder().setFile(i)
              .setOffset(off).setData(UnsafeByteOperations.unsafeWrap(buf))).build());
          unacknowledged++;
          off += n;
          bytes += n;
        }
      }
    }
    for (; unacknowledged > 0; unacknowledged--) {
      expect(conversation.receive(), SessionResponse.BodyCase.BULK_CHUNK);
    }
    BulkAttached attached = expect(conversation.call(SessionRequest.newBuilder()
        .setBulkAttach(BulkAttach.getDefaultInstance()).build()), SessionResponse.BodyCase.BULK_ATTACHED)
        .getBulkAttached();
    return new Outcome(new BulkFigures(specs.size(), bytes, attached.getDocuments(), attached.getKeysResolved()),
        null);
  }

  private SessionResponse expect(SessionResponse r, SessionResponse.BodyCase body) {
    if (r.getBodyCase() != body) {
      throw new SyncFailedException("peer answered " + r.getBodyCase() + " to a bulk transfer request, expected "
          + body, false, null);
    }
    return r;
  }
}
