package dev.arbor.metadata.etcd;

import dev.arbor.metadata.MetadataEvent;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.arbor.api.banyandb.common.v1.Group;
import dev.arbor.api.banyandb.database.v1.Property;
import dev.arbor.api.metadata.v1.StoredGroupIncarnation;
import dev.arbor.errors.AlreadyExistsException;
import dev.arbor.errors.FailedPreconditionException;
import dev.arbor.errors.NotFoundException;
import dev.arbor.metadata.MetadataStore;
import dev.arbor.metadata.MetadataValidator;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.HybridClock;
import dev.arbor.property.ProtoTime;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link MetadataStore} on etcd, for real clusters. Layout under the prefix (default
 * {@value #DEFAULT_PREFIX}): {@code groups/<name>} and {@code schemas/<group>/<name>}, each holding
 * the protobuf bytes of the stored message, and {@code incarnations/<name>} holding the group's
 * incarnation ({@code arbor.metadata.v1.StoredGroupIncarnation}), a key of its own so the public
 * {@code Group} message stays as the BanyanDB client knows it. It is put in the transaction that
 * creates the group and deleted with it; a group written by an older build gets one from the first
 * process of this build that sees it (a put if the key is still absent, so all agree on one).
 * {@code deleted/<name>} records the incarnation of the group's last delete, put by the delete's
 * own transaction and removed when the name is created again: it tells a delete someone made from
 * a group that merely vanished (a wiped prefix, an etcd restored from an old backup), and only the
 * former lets data nodes delete data.
 *
 * <p>Writes go to etcd in one transaction each and return only once etcd committed them: create =
 * put if {@code version == 0}; update = read, then put if {@code mod_revision} is unchanged (retried
 * on a concurrent update, so the create revision is always the stored one); delete of a group
 * removes it and all its schemas atomically. Create/mod revisions come from the {@link HybridClock},
 * an update's above the previous one.
 *
 * <p>Reads are served from a local cache loaded at start and kept current by a watch on the prefix
 * (changes by other nodes show up within the watch latency, milliseconds on a LAN); this process's
 * own writes are visible to it as soon as the call returns. While etcd is unreachable, reads keep
 * serving the last known metadata and writes fail with {@code UnavailableException} naming the
 * endpoints, after at most the configured timeout; the watch re-lists and resumes when etcd returns.
 */
public final class EtcdMetadataStore implements MetadataStore {
  public static final String DEFAULT_PREFIX = "/arbor/v1/";
  private static final String GROUPS = "groups/";
  private static final String SCHEMAS = "schemas/";
  private static final String INCARNATIONS = "incarnations/";
  private static final String DELETED = "deleted/";
  private static final Logger LOG = LoggerFactory.getLogger(EtcdMetadataStore.class);
  private static final int MAX_UPDATE_ATTEMPTS = 16;
  /**
   * Stored values are checked as the API checks input, but for the tag count: that limit is the
   * liaison's setting, and a stricter node must not take a valid schema for a corrupt one.
   */
  private static final MetadataValidator STORED = new MetadataValidator(Integer.MAX_VALUE);

  private final EtcdConnection conn;
  private final boolean ownsConnection;
  private final String prefix;
  private final HybridClock clock;
  private final PrefixCache<Message> cache;
  private final Map<Consumer<MetadataEvent>, Consumer<PrefixCache.Change<Message>>> listeners =
      new ConcurrentHashMap<>();
  /**
   * The last incarnation each group had, kept past its deletion: a group's delete event names the
   * incarnation deleted, though the incarnation key goes in the same transaction. Updated on the
   * cache thread before any other listener sees the change.
   */
  private final Map<String, GroupIncarnation> lastIncarnations = new ConcurrentHashMap<>();

  private EtcdMetadataStore(EtcdConnection conn, boolean owns, String prefix, HybridClock clock) {
    this.conn = conn;
    this.ownsConnection = owns;
    this.prefix = prefix;
    this.clock = clock;
    this.cache = new PrefixCache<>(conn, prefix, "arbor-etcd-metadata", EtcdMetadataStore::decode);
  }

  /**
   * Connects to etcd, loads the metadata under {@code prefix} and starts watching it. Throws
   * {@code UnavailableException} ("cannot reach etcd at ... within 5s") when etcd does not answer
   * within {@code timeout}; {@code timeout} is also the deadline of every later etcd call.
   */
  public static EtcdMetadataStore connect(
      List<URI> endpoints, String prefix, HybridClock clock, Duration timeout) {
    EtcdConnection c = EtcdConnection.connect(endpoints, timeout);
    try {
      return open(c, prefix, clock, true);
    } catch (RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /** Uses an existing connection, which the caller keeps owning (closing the store leaves it open). */
  public static EtcdMetadataStore open(EtcdConnection conn, String prefix, HybridClock clock) {
    return open(conn, prefix, clock, false);
  }

  private static EtcdMetadataStore open(
      EtcdConnection conn, String prefix, HybridClock clock, boolean owns) {
    EtcdMetadataStore s = new EtcdMetadataStore(conn, owns, normalizePrefix(prefix), clock);
    try {
      s.cache.addListener(c -> {
        if (c.key().startsWith(INCARNATIONS) && c.newValue() instanceof StoredGroupIncarnation i
            && i.getId().size() == GroupIncarnation.BYTES) {
          s.lastIncarnations.put(c.key().substring(INCARNATIONS.length()),
              GroupIncarnation.fromBytes(i.getId().toByteArray()));
        }
      });
      // Groups that an older build created (before or while this process runs) get an incarnation.
      s.cache.addListener(c -> {
        if (c.newValue() instanceof Group g) {
          s.assignMissingIncarnation(g.getMetadata().getName());
        }
      });
      s.cache.start();
      for (Group g : s.groups()) {
        s.assignMissingIncarnation(g.getMetadata().getName());
      }
    } catch (RuntimeException e) {
      s.cache.close();
      throw e;
    }
    return s;
  }

  /** {@code null}/blank → {@value #DEFAULT_PREFIX}; otherwise the prefix with a trailing '/'. */
  public static String normalizePrefix(String prefix) {
    if (prefix == null || prefix.isBlank()) {
      return DEFAULT_PREFIX;
    }
    return prefix.endsWith("/") ? prefix : prefix + "/";
  }

  public String prefix() {
    return prefix;
  }

  /** etcd unreachable: the last call or watch failed (the watch retries and clears this). */
  @Override
  public List<String> readinessProblems() {
    return connection().isAvailable() ? List.of()
        : List.of("metadata store (etcd at " + connection().endpointText() + ") is unreachable");
  }

  public EtcdConnection connection() {
    return conn;
  }

  /**
   * Calls {@code listener} (on the store's event thread, in commit order) for every change of a
   * group or schema, made by this process or any other.
   */
  public void addListener(Consumer<MetadataEvent> listener) {
    Consumer<PrefixCache.Change<Message>> adapter =
        c -> {
          Message v = c.newValue() != null ? c.newValue() : c.oldValue();
          if (v instanceof Group && c.newValue() == null) {
            String name = c.key().substring(GROUPS.length());
            listener.accept(MetadataEvent.ofGroupDeleted((Group) c.oldValue(), deletedIncarnation(name)));
          } else if (v instanceof Group) {
            listener.accept(MetadataEvent.ofGroup((Group) c.oldValue(), (Group) c.newValue()));
          } else if (v instanceof StoredGroupIncarnation && c.newValue() != null && c.key().startsWith(INCARNATIONS)) {
            // Put with its group (same revision: the group's own event covers it), or assigned
            // later to a group from an older build: then the group changed for its listeners.
            String name = c.key().substring(INCARNATIONS.length());
            Optional<Group> g = group(name);
            if (g.isPresent() && cache.modRevision(GROUPS + name) < cache.modRevision(c.key())) {
              listener.accept(MetadataEvent.ofGroup(g.get(), g.get()));
            }
          } else if (v instanceof Property) {
            listener.accept(MetadataEvent.ofSchema((Property) c.oldValue(), (Property) c.newValue()));
          }
        };
    if (listeners.putIfAbsent(listener, adapter) == null) {
      cache.addListener(adapter);
    }
  }

  @Override
  public void addRevisionListener(Consumer<dev.arbor.metadata.MetadataRevision> listener) {
    cache.addRevisionListener(listener);
  }

  public void removeListener(Consumer<MetadataEvent> listener) {
    Consumer<PrefixCache.Change<Message>> adapter = listeners.remove(listener);
    if (adapter != null) {
      cache.removeListener(adapter);
    }
  }

  // ---- reads (local cache) -------------------------------------------------------------------

  @Override
  public Optional<Group> group(String name) {
    return cache.get(GROUPS + name).map(Group.class::cast);
  }

  @Override
  public List<Group> groups() {
    return cache.valuesWithPrefix(GROUPS).stream().map(Group.class::cast).toList();
  }

  @Override
  public Optional<GroupIncarnation> incarnation(String name) {
    if (group(name).isEmpty()) {
      return Optional.empty();
    }
    return cache.get(INCARNATIONS + name)
        .map(m -> ((StoredGroupIncarnation) m).getId().toByteArray())
        .filter(b -> b.length == GroupIncarnation.BYTES)
        .map(GroupIncarnation::fromBytes);
  }

  /**
   * The incarnation a delete of the group removed, when the group's last incarnation known here
   * was deleted by {@link #deleteGroup} (its deletion record names it); null when the group
   * vanished otherwise (the keys deleted by hand, etcd restored or replaced).
   */
  private GroupIncarnation deletedIncarnation(String name) {
    GroupIncarnation last = lastIncarnations.get(name);
    Optional<GroupIncarnation> recorded = cache.get(DELETED + name)
        .map(m -> ((StoredGroupIncarnation) m).getId().toByteArray())
        .filter(b -> b.length == GroupIncarnation.BYTES)
        .map(GroupIncarnation::fromBytes);
    return last != null && recorded.equals(Optional.of(last)) ? last : null;
  }

  @Override
  public Optional<Property> schema(String group, String name) {
    return cache.get(schemaKey(group, name)).map(Property.class::cast);
  }

  @Override
  public List<Property> schemas(String group) {
    return cache.valuesWithPrefix(SCHEMAS + group + "/").stream().map(Property.class::cast).toList();
  }

  // ---- writes (etcd transactions) ------------------------------------------------------------

  @Override
  public Group createGroup(Group group) {
    String name = group.getMetadata().getName();
    MetadataValidator.checkNameField("group.metadata.name", name);
    long rev = clock.next();
    Group stored =
        group.toBuilder()
            .setMetadata(group.getMetadata().toBuilder().setCreateRevision(rev).setModRevision(rev))
            .build();
    ByteSequence key = key(GROUPS + name);
    StoredGroupIncarnation incarnation = newIncarnation();
    TxnResponse r =
        conn.call(
            () -> kv().txn()
                .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0)))
                .Then(
                    Op.put(key, value(stored), PutOption.DEFAULT),
                    Op.put(key(INCARNATIONS + name), value(incarnation), PutOption.DEFAULT),
                    Op.delete(key(DELETED + name), DeleteOption.DEFAULT))
                .commit(),
            "create group " + name);
    if (!r.isSucceeded()) {
      throw new AlreadyExistsException("group " + name + " already exists");
    }
    long committed = r.getHeader().getRevision();
    cache.applyLocal(INCARNATIONS + name, incarnation, committed); // first: the group's event finds it
    cache.applyLocal(DELETED + name, null, committed);
    cache.applyLocal(GROUPS + name, stored, committed);
    return stored;
  }

  @Override
  public Group updateGroup(Group group) {
    String name = group.getMetadata().getName();
    MetadataValidator.checkNameField("group.metadata.name", name);
    ByteSequence key = key(GROUPS + name);
    for (int attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      KeyValue cur = read(List.of(key), "read group " + name).get(0);
      if (cur == null) {
        throw new NotFoundException("group " + name + " not found");
      }
      Group old = parse(cur, Group.parser());
      Group stored =
          group.toBuilder()
              .setMetadata(
                  group.getMetadata().toBuilder()
                      .setCreateRevision(old.getMetadata().getCreateRevision())
                      .setModRevision(clock.next(old.getMetadata().getModRevision())))
              .build();
      TxnResponse r =
          conn.call(
              () -> kv().txn()
                  .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(cur.getModRevision())))
                  .Then(Op.put(key, value(stored), PutOption.DEFAULT))
                  .commit(),
              "update group " + name);
      if (r.isSucceeded()) {
        cache.applyLocal(GROUPS + name, stored, r.getHeader().getRevision());
        return stored;
      }
    }
    throw tooManyConflicts("group " + name);
  }

  @Override
  public void deleteGroup(String name) {
    ByteSequence key = key(GROUPS + name);
    ByteSequence ik = key(INCARNATIONS + name);
    String schemaPrefix = SCHEMAS + name + "/";
    TxnResponse r = null;
    Optional<StoredGroupIncarnation> incarnation = Optional.empty();
    for (int attempt = 0; attempt < MAX_UPDATE_ATTEMPTS && r == null; attempt++) {
      List<KeyValue> cur = read(List.of(key, ik), "read group " + name);
      if (cur.get(0) == null) {
        throw new NotFoundException("group " + name + " not found");
      }
      incarnation = Optional.ofNullable(cur.get(1)).map(kv -> parse(kv, StoredGroupIncarnation.parser()));
      List<Op> ops = new java.util.ArrayList<>(List.of(
          Op.delete(key, DeleteOption.DEFAULT),
          Op.delete(ik, DeleteOption.DEFAULT),
          Op.delete(key(schemaPrefix), DeleteOption.builder().isPrefix(true).build())));
      // The deletion record names the incarnation this transaction deletes, or none is written.
      incarnation.ifPresent(i -> ops.add(Op.put(key(DELETED + name), value(i), PutOption.DEFAULT)));
      TxnResponse t =
          conn.call(
              () -> kv().txn()
                  .If(new Cmp(key, Cmp.Op.GREATER, CmpTarget.version(0)),
                      new Cmp(ik, Cmp.Op.EQUAL,
                          CmpTarget.modRevision(cur.get(1) == null ? 0 : cur.get(1).getModRevision())))
                  .Then(ops.toArray(Op[]::new))
                  .commit(),
              "delete group " + name);
      r = t.isSucceeded() ? t : null;
    }
    if (r == null) {
      throw tooManyConflicts("group " + name);
    }
    long rev = r.getHeader().getRevision();
    StoredGroupIncarnation deleted = incarnation.orElse(null);
    if (deleted != null) {
      cache.applyLocal(DELETED + name, deleted, rev); // first: the group's event finds it
    }
    cache.applyLocal(GROUPS + name, null, rev); // same order as the watch delivers them
    cache.applyLocal(INCARNATIONS + name, null, rev);
    cache.applyLocalDeletePrefix(schemaPrefix, rev);
  }

  /**
   * Gives a group written by an older build an incarnation: put only while the group exists and
   * has none, so when several processes try at once exactly one value is stored and all read it.
   * A failure is logged; the next process start or change of the group tries again.
   */
  private void assignMissingIncarnation(String name) {
    if (group(name).isEmpty() || cache.get(INCARNATIONS + name).isPresent()) {
      return;
    }
    ByteSequence ik = key(INCARNATIONS + name);
    StoredGroupIncarnation incarnation = newIncarnation();
    try {
      TxnResponse r =
          conn.call(
              () -> kv().txn()
                  .If(
                      new Cmp(key(GROUPS + name), Cmp.Op.GREATER, CmpTarget.version(0)),
                      new Cmp(ik, Cmp.Op.EQUAL, CmpTarget.version(0)))
                  .Then(Op.put(ik, value(incarnation), PutOption.DEFAULT))
                  .commit(),
              "assign an incarnation to group " + name);
      if (r.isSucceeded()) {
        cache.applyLocal(INCARNATIONS + name, incarnation, r.getHeader().getRevision());
        LOG.info("group {} predates group incarnations; assigned incarnation {}", name,
            GroupIncarnation.fromBytes(incarnation.getId().toByteArray()));
      }
    } catch (RuntimeException e) {
      LOG.warn("cannot assign an incarnation to group {} yet: {}", name, e.getMessage());
    }
  }

  private static StoredGroupIncarnation newIncarnation() {
    return StoredGroupIncarnation.newBuilder()
        .setId(ByteString.copyFrom(GroupIncarnation.random().toBytes()))
        .build();
  }

  @Override
  public Property createSchema(Property schema) {
    String group = schema.getMetadata().getGroup();
    String name = schema.getMetadata().getName();
    MetadataValidator.checkNameField("property.metadata.group", group);
    MetadataValidator.checkNameField("property.metadata.name", name);
    long rev = clock.next();
    Property stored =
        schema.toBuilder()
            .setMetadata(schema.getMetadata().toBuilder().setCreateRevision(rev).setModRevision(rev))
            .setUpdatedAt(ProtoTime.ofNanos(rev))
            .build();
    ByteSequence gk = key(GROUPS + group);
    ByteSequence sk = key(schemaKey(group, name));
    TxnResponse r =
        conn.call(
            () -> kv().txn()
                .If(
                    new Cmp(gk, Cmp.Op.GREATER, CmpTarget.version(0)),
                    new Cmp(sk, Cmp.Op.EQUAL, CmpTarget.version(0)))
                .Then(Op.put(sk, value(stored), PutOption.DEFAULT))
                .Else(Op.get(gk, GetOption.DEFAULT))
                .commit(),
            "create property schema " + group + "/" + name);
    if (!r.isSucceeded()) {
      if (r.getGetResponses().isEmpty() || r.getGetResponses().get(0).getKvs().isEmpty()) {
        throw new NotFoundException("group " + group + " not found");
      }
      throw new AlreadyExistsException("property schema " + group + "/" + name + " already exists");
    }
    cache.applyLocal(schemaKey(group, name), stored, r.getHeader().getRevision());
    return stored;
  }

  @Override
  public Property updateSchema(Property schema) {
    String group = schema.getMetadata().getGroup();
    String name = schema.getMetadata().getName();
    MetadataValidator.checkNameField("property.metadata.group", group);
    MetadataValidator.checkNameField("property.metadata.name", name);
    ByteSequence gk = key(GROUPS + group);
    ByteSequence sk = key(schemaKey(group, name));
    for (int attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      List<KeyValue> both = read(List.of(gk, sk), "read property schema " + group + "/" + name);
      if (both.get(0) == null) {
        throw new NotFoundException("group " + group + " not found");
      }
      KeyValue cur = both.get(1);
      if (cur == null) {
        throw new NotFoundException("property schema " + group + "/" + name + " not found");
      }
      Property old = parse(cur, Property.parser());
      long rev = clock.next(old.getMetadata().getModRevision());
      Property stored =
          schema.toBuilder()
              .setMetadata(
                  schema.getMetadata().toBuilder()
                      .setCreateRevision(old.getMetadata().getCreateRevision())
                      .setModRevision(rev))
              .setUpdatedAt(ProtoTime.ofNanos(rev))
              .build();
      TxnResponse r =
          conn.call(
              () -> kv().txn()
                  .If(
                      new Cmp(gk, Cmp.Op.GREATER, CmpTarget.version(0)),
                      new Cmp(sk, Cmp.Op.EQUAL, CmpTarget.modRevision(cur.getModRevision())))
                  .Then(Op.put(sk, value(stored), PutOption.DEFAULT))
                  .commit(),
              "update property schema " + group + "/" + name);
      if (r.isSucceeded()) {
        cache.applyLocal(schemaKey(group, name), stored, r.getHeader().getRevision());
        return stored;
      }
    }
    throw tooManyConflicts("property schema " + group + "/" + name);
  }

  @Override
  public void deleteSchema(String group, String name) {
    ByteSequence sk = key(schemaKey(group, name));
    TxnResponse r =
        conn.call(
            () -> kv().txn()
                .If(new Cmp(sk, Cmp.Op.GREATER, CmpTarget.version(0)))
                .Then(Op.delete(sk, DeleteOption.DEFAULT))
                .commit(),
            "delete property schema " + group + "/" + name);
    if (!r.isSucceeded()) {
      throw new NotFoundException("property schema " + group + "/" + name + " not found");
    }
    cache.applyLocal(schemaKey(group, name), null, r.getHeader().getRevision());
  }

  @Override
  public void close() {
    cache.close();
    if (ownsConnection) {
      conn.close();
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  private KV kv() {
    return conn.client().getKVClient();
  }

  /** Reads several keys at one revision (one round trip); a missing key is a null element. */
  private List<KeyValue> read(List<ByteSequence> keys, String what) {
    Op[] gets = keys.stream().map(k -> Op.get(k, GetOption.DEFAULT)).toArray(Op[]::new);
    TxnResponse r = conn.call(() -> kv().txn().Then(gets).commit(), what);
    List<GetResponse> gr = r.getGetResponses();
    KeyValue[] out = new KeyValue[keys.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = gr.get(i).getKvs().isEmpty() ? null : gr.get(i).getKvs().get(0);
    }
    return java.util.Arrays.asList(out);
  }

  private ByteSequence key(String relative) {
    return EtcdConnection.bytes(prefix + relative);
  }

  private static ByteSequence value(Message m) {
    return ByteSequence.from(m.toByteArray());
  }

  private static String schemaKey(String group, String name) {
    return SCHEMAS + group + "/" + name;
  }

  private <T extends Message> T parse(KeyValue kv, com.google.protobuf.Parser<T> parser) {
    try {
      return parser.parseFrom(kv.getValue().getBytes());
    } catch (InvalidProtocolBufferException e) {
      throw new FailedPreconditionException(
          "etcd value at " + kv.getKey().toString(StandardCharsets.UTF_8)
              + " is not a valid protobuf message: " + e.getMessage(),
          e);
    }
  }

  /**
   * Reads a value as the API's input is checked: a value that fails validation, or names another
   * item than its key, throws (the cache keeps the last good value and raises the alarm).
   */
  private static Message decode(String key, byte[] bytes) throws InvalidProtocolBufferException {
    if (key.startsWith(GROUPS)) {
      Group g = Group.parseFrom(bytes);
      STORED.validateGroup(g);
      requireKey(key, GROUPS + g.getMetadata().getName());
      return g;
    }
    if (key.startsWith(SCHEMAS)) {
      Property p = Property.parseFrom(bytes);
      STORED.validateSchema(p);
      requireKey(key, schemaKey(p.getMetadata().getGroup(), p.getMetadata().getName()));
      return p;
    }
    if (key.startsWith(INCARNATIONS) || key.startsWith(DELETED)) {
      StoredGroupIncarnation i = StoredGroupIncarnation.parseFrom(bytes);
      if (i.getId().size() != GroupIncarnation.BYTES) {
        throw new FailedPreconditionException("a group incarnation has " + GroupIncarnation.BYTES + " bytes, got "
            + i.getId().size());
      }
      return i;
    }
    return null; // nodes/ and anything else under the prefix are not ours
  }

  private static void requireKey(String key, String expected) {
    if (!key.equals(expected)) {
      throw new FailedPreconditionException("the value names " + expected + ", not its key " + key);
    }
  }

  /** Keys under the prefix whose value cannot be read or is invalid, and why. */
  @Override
  public Map<String, String> unreadableValues() {
    return cache.unreadable();
  }

  private static FailedPreconditionException tooManyConflicts(String what) {
    return new FailedPreconditionException(
        what + " was updated concurrently " + MAX_UPDATE_ATTEMPTS + " times in a row; retry");
  }
}
