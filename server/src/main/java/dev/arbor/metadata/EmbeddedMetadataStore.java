package dev.arbor.metadata;

import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.database.v1.Property;
import dev.arbor.api.metadata.v1.MetadataSnapshot;
import dev.arbor.errors.AlreadyExistsException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.HybridClock;
import dev.arbor.property.ProtoTime;
import dev.arbor.storage.AtomicFileWriter;
import dev.arbor.storage.StorageException;
import dev.arbor.storage.format.FileFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Metadata of a single process kept in memory and persisted as one checksummed file
 * ({@code meta/metadata.bin}: {@link FileFormat} header of kind {@value #KIND}, version 2 ‖
 * MetadataSnapshot ‖ footer), rewritten atomically on every change. Small by nature (groups and
 * schemas), so a whole-file rewrite is simpler and safer than a log. Format 1 ({@code "ARBM" ‖
 * i32le 1 ‖ i32le CRC32C ‖ MetadataSnapshot}) is still read and becomes format 2 at the next
 * change. Group incarnations live in the snapshot beside the groups; a file written before they
 * existed gets one per group when it is opened.
 */
public final class EmbeddedMetadataStore implements MetadataStore {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedMetadataStore.class);
  static final String KIND = "metadata";
  static final int FORMAT = 2;
  private static final byte[] LEGACY_MAGIC = {'A', 'R', 'B', 'M'};
  private static final int LEGACY_FORMAT = 1;

  private final Path file;
  private final HybridClock clock;
  private final TreeMap<String, Group> groups = new TreeMap<>();
  private final TreeMap<String, Property> schemas = new TreeMap<>();
  private final TreeMap<String, GroupIncarnation> incarnations = new TreeMap<>();
  private long revision;
  private final java.util.List<java.util.function.Consumer<MetadataEvent>> listeners =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  private EmbeddedMetadataStore(Path file, HybridClock clock) {
    this.file = file;
    this.clock = clock;
  }

  /** Opens (or creates) the store in {@code dir}; a corrupt file is an error, never ignored. */
  public static EmbeddedMetadataStore open(Path dir, HybridClock clock) throws IOException {
    EmbeddedMetadataStore s = new EmbeddedMetadataStore(dir.resolve("metadata.bin"), clock);
    if (Files.exists(s.file)) {
      s.load(Files.readAllBytes(s.file));
      s.assignMissingIncarnations();
    }
    return s;
  }

  private void load(byte[] bytes) throws IOException {
    byte[] body = bytes.length >= 4 && Arrays.equals(bytes, 0, 4, LEGACY_MAGIC, 0, 4)
        ? legacyBody(bytes)
        : FileFormat.unseal(bytes, file.toString(), KIND, FORMAT, FORMAT).body();
    MetadataSnapshot snap;
    try {
      snap = MetadataSnapshot.parseFrom(body);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IOException(file + ": unreadable metadata snapshot (file is corrupt): " + e.getMessage(), e);
    }
    revision = snap.getRevision();
    snap.getGroupsList().forEach(g -> groups.put(g.getMetadata().getName(), g));
    snap.getSchemasList().forEach(p -> schemas.put(schemaKey(p), p));
    for (var e : snap.getGroupIncarnationsMap().entrySet()) {
      if (groups.containsKey(e.getKey())) {
        try {
          incarnations.put(e.getKey(), GroupIncarnation.fromBytes(e.getValue().toByteArray()));
        } catch (IllegalArgumentException bad) {
          throw new IOException(file + ": group " + e.getKey() + ": " + bad.getMessage() + " (file is corrupt)", bad);
        }
      }
    }
  }

  /** The snapshot bytes of a format-1 file (builds up to 95b71fe), checked. */
  private byte[] legacyBody(byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < 12) {
      throw new IOException(file + ": truncated (ends inside the header)");
    }
    int format = b.getInt(4);
    if (format != LEGACY_FORMAT) {
      throw new IOException(file + ": unsupported metadata format " + format);
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes, 12, bytes.length - 12);
    if ((int) crc.getValue() != b.getInt(8)) {
      throw new IOException(file + ": checksum mismatch (file is corrupt)");
    }
    return Arrays.copyOfRange(bytes, 12, bytes.length);
  }

  /** Metadata written before incarnations existed: one process owns it, so it just gets them. */
  private synchronized void assignMissingIncarnations() {
    List<String> missing = groups.keySet().stream().filter(g -> !incarnations.containsKey(g)).toList();
    if (missing.isEmpty()) {
      return;
    }
    commit(() -> missing.forEach(g -> incarnations.put(g, GroupIncarnation.random())), null);
    missing.forEach(g -> LOG.info("group {} predates group incarnations; assigned incarnation {}", g, incarnations.get(g)));
  }

  private void persist() {
    revision++;
    byte[] payload =
        MetadataSnapshot.newBuilder()
            .setRevision(revision)
            .addAllGroups(groups.values())
            .addAllSchemas(schemas.values())
            .putAllGroupIncarnations(incarnationBytes())
            .build()
            .toByteArray();
    try {
      AtomicFileWriter.write(file, FileFormat.seal(KIND, FORMAT, payload));
    } catch (IOException e) {
      throw new StorageException("cannot persist metadata to " + file + ": " + e.getMessage(), e);
    }
  }

  @Override
  public synchronized Optional<Group> group(String name) {
    return Optional.ofNullable(groups.get(name));
  }

  @Override
  public synchronized List<Group> groups() {
    return List.copyOf(groups.values());
  }

  @Override
  public synchronized Optional<GroupIncarnation> incarnation(String name) {
    return Optional.ofNullable(incarnations.get(name));
  }

  private java.util.Map<String, com.google.protobuf.ByteString> incarnationBytes() {
    java.util.Map<String, com.google.protobuf.ByteString> out = new TreeMap<>();
    incarnations.forEach((g, i) -> out.put(g, com.google.protobuf.ByteString.copyFrom(i.toBytes())));
    return out;
  }

  @Override
  public synchronized Group createGroup(Group group) {
    String name = group.getMetadata().getName();
    MetadataValidator.checkNameField("group.metadata.name", name);
    if (groups.containsKey(name)) {
      throw new AlreadyExistsException("group " + name + " already exists");
    }
    long rev = clock.next();
    Group stored =
        group.toBuilder()
            .setMetadata(group.getMetadata().toBuilder().setCreateRevision(rev).setModRevision(rev))
            .build();
    GroupIncarnation incarnation = GroupIncarnation.random();
    commit(() -> {
      groups.put(name, stored);
      incarnations.put(name, incarnation);
    }, stored);
    publish(MetadataEvent.ofGroup(null, stored));
    return stored;
  }

  @Override
  public synchronized Group updateGroup(Group group) {
    String name = group.getMetadata().getName();
    Group old = groups.get(name);
    if (old == null) {
      throw new NotFoundException("group " + name + " not found");
    }
    Group stored =
        group.toBuilder()
            .setMetadata(
                group.getMetadata().toBuilder()
                    .setCreateRevision(old.getMetadata().getCreateRevision())
                    .setModRevision(clock.next()))
            .build();
    commit(() -> groups.put(name, stored), stored);
    publish(MetadataEvent.ofGroup(old, stored));
    return stored;
  }

  @Override
  public synchronized void deleteGroup(String name) {
    MetadataValidator.checkNameField("group", name);
    if (!groups.containsKey(name)) {
      throw new NotFoundException("group " + name + " not found");
    }
    Group old = groups.get(name);
    GroupIncarnation deleted = incarnations.get(name);
    java.util.List<Property> dropped = schemas(name);
    commit(() -> {
      groups.remove(name);
      incarnations.remove(name);
      schemas.values().removeIf(p -> p.getMetadata().getGroup().equals(name));
    }, null);
    publish(MetadataEvent.ofGroupDeleted(old, deleted));
    dropped.forEach(p -> publish(MetadataEvent.ofSchema(p, null)));
  }

  @Override
  public synchronized Optional<Property> schema(String group, String name) {
    return Optional.ofNullable(schemas.get(group + "/" + name));
  }

  @Override
  public synchronized List<Property> schemas(String group) {
    List<Property> out = new ArrayList<>();
    for (Property p : schemas.values()) {
      if (p.getMetadata().getGroup().equals(group)) {
        out.add(p);
      }
    }
    return out;
  }

  @Override
  public synchronized Property createSchema(Property schema) {
    requireGroup(schema.getMetadata().getGroup());
    String key = schemaKey(schema);
    if (schemas.containsKey(key)) {
      throw new AlreadyExistsException("property schema " + key + " already exists");
    }
    long rev = clock.next();
    Property stored =
        schema.toBuilder()
            .setMetadata(schema.getMetadata().toBuilder().setCreateRevision(rev).setModRevision(rev))
            .setUpdatedAt(ProtoTime.ofNanos(rev))
            .build();
    commit(() -> schemas.put(key, stored), stored);
    publish(MetadataEvent.ofSchema(null, stored));
    return stored;
  }

  @Override
  public synchronized Property updateSchema(Property schema) {
    requireGroup(schema.getMetadata().getGroup());
    String key = schemaKey(schema);
    Property old = schemas.get(key);
    if (old == null) {
      throw new NotFoundException("property schema " + key + " not found");
    }
    long rev = clock.next();
    Property stored =
        schema.toBuilder()
            .setMetadata(
                schema.getMetadata().toBuilder()
                    .setCreateRevision(old.getMetadata().getCreateRevision())
                    .setModRevision(rev))
            .setUpdatedAt(ProtoTime.ofNanos(rev))
            .build();
    commit(() -> schemas.put(key, stored), stored);
    publish(MetadataEvent.ofSchema(old, stored));
    return stored;
  }

  @Override
  public synchronized void deleteSchema(String group, String name) {
    String key = group + "/" + name;
    Property old = schemas.get(key);
    if (old == null) {
      throw new NotFoundException("property schema " + key + " not found");
    }
    commit(() -> schemas.remove(key), old);
    publish(MetadataEvent.ofSchema(old, null));
  }

  @Override
  public void addListener(java.util.function.Consumer<MetadataEvent> listener) {
    listeners.add(listener);
  }

  private void publish(MetadataEvent e) {
    for (var l : listeners) {
      l.accept(e);
    }
  }

  @Override
  public void close() {}

  private void requireGroup(String group) {
    if (!groups.containsKey(group)) {
      throw new NotFoundException("group " + group + " not found");
    }
  }

  /** Applies a change and persists it; on a failed write the change is undone. */
  private <T> T commit(Runnable change, T result) {
    TreeMap<String, Group> g0 = new TreeMap<>(groups);
    TreeMap<String, Property> s0 = new TreeMap<>(schemas);
    TreeMap<String, GroupIncarnation> i0 = new TreeMap<>(incarnations);
    change.run();
    try {
      persist();
    } catch (RuntimeException e) {
      groups.clear();
      groups.putAll(g0);
      schemas.clear();
      schemas.putAll(s0);
      incarnations.clear();
      incarnations.putAll(i0);
      revision--;
      throw e;
    }
    return result;
  }

  private static String schemaKey(Property p) {
    return p.getMetadata().getGroup() + "/" + p.getMetadata().getName();
  }
}
