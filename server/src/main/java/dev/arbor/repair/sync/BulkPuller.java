package dev.arbor.repair.sync;

import com.google.protobuf.ByteString;
import dev.arbor.api.repair.v1.BulkFile;
import dev.arbor.api.repair.v1.BulkManifest;
import dev.arbor.api.repair.v1.BulkPull;
import dev.arbor.api.repair.v1.BulkRead;
import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SessionResponse;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.storage.BulkIntake;
import dev.arbor.storage.BulkRefusedException;
import dev.arbor.storage.DocumentCodec;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardFiles;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The client's side of a pulled bulk transfer (its copy is empty, the server's is not): asks for
 * the server's commit, reads its files in chunks with two reads in flight, stages and verifies
 * them in a {@link BulkIntake} and attaches them to its own shard, under the same rules as a
 * server receiving a pushed transfer ({@link BulkReceiver}).
 */
final class BulkPuller {
  private static final int WINDOW = 2;

  private record Pending(int file, long offset) {}

  private final Conversation conversation;
  private final PropertyStore store;
  private final String group;
  private final int shard;

  BulkPuller(Conversation conversation, PropertyStore store, String group, int shard) {
    this.conversation = conversation;
    this.store = store;
    this.group = group;
    this.shard = shard;
  }

  BulkSender.Outcome pull(Optional<GroupIncarnation> incarnation, Predicate<String> keyBelongs) throws IOException {
    BulkPull.Builder req = BulkPull.newBuilder().setLayout(DocumentCodec.LAYOUT);
    incarnation.ifPresent(i -> req.setGroupIncarnation(ByteString.copyFrom(i.toBytes())));
    BulkManifest m = expect(conversation.call(SessionRequest.newBuilder().setBulkPull(req).build()),
        SessionResponse.BodyCase.BULK_MANIFEST).getBulkManifest();
    if (!m.getAvailable()) {
      return new BulkSender.Outcome(null, m.getReason());
    }
    List<ShardFiles.FileSpec> specs = new ArrayList<>(m.getFiles().getFilesCount());
    for (BulkFile f : m.getFiles().getFilesList()) {
      specs.add(new ShardFiles.FileSpec(f.getName(), f.getLength()));
    }
    Optional<GroupIncarnation> theirs;
    try {
      theirs = GroupIncarnation.ofOptionalBytes(m.getFiles().getGroupIncarnation().toByteArray());
    } catch (IllegalArgumentException e) {
      throw new SyncFailedException("peer sent a bad incarnation with its files: " + e.getMessage(), false, e);
    }
    BulkIntake intake;
    try {
      intake = store.beginBulkIntake(group, shard, theirs, m.getFiles().getLayout(), specs);
    } catch (BulkRefusedException e) {
      return new BulkSender.Outcome(null, "this node: " + e.getMessage());
    }
    try (intake) {
      ArrayDeque<Pending> inFlight = new ArrayDeque<>(WINDOW);
      for (int i = 0; i < specs.size(); i++) {
        for (long off = 0; off < specs.get(i).length(); off += BulkSettings.CHUNK_BYTES) {
          if (inFlight.size() == WINDOW) {
            receive(intake, inFlight.poll());
          }
          conversation.send(SessionRequest.newBuilder().setBulkRead(BulkRead.newBuilder().setFile(i).setOffset(off))
              .build());
          inFlight.add(new Pending(i, off));
        }
      }
      while (!inFlight.isEmpty()) {
        receive(intake, inFlight.poll());
      }
      BulkIntake.Attached a = store.attachBulk(intake, keyBelongs);
      return new BulkSender.Outcome(new BulkFigures(specs.size(), intake.bytes(), a.documents(), a.keysResolved()),
          null);
    }
  }

  private void receive(BulkIntake intake, Pending p) throws IOException {
    byte[] data = expect(conversation.receive(), SessionResponse.BodyCase.BULK_DATA).getBulkData().getData()
        .toByteArray();
    try {
      intake.write(p.file(), p.offset(), data);
    } catch (IllegalArgumentException e) {
      throw new SyncFailedException("peer sent a bad chunk: " + e.getMessage(), false, e);
    }
  }

  private static SessionResponse expect(SessionResponse r, SessionResponse.BodyCase body) {
    if (r.getBodyCase() != body) {
      throw new SyncFailedException("peer answered " + r.getBodyCase() + " to a bulk transfer request, expected "
          + body, false, null);
    }
    return r;
  }
}
