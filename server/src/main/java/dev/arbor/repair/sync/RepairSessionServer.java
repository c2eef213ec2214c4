package dev.arbor.repair.sync;

import com.google.protobuf.ByteString;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.repair.v1.BucketDigests;
import dev.arbor.api.repair.v1.BucketRequest;
import dev.arbor.api.repair.v1.FinishAck;
import dev.arbor.api.repair.v1.Leaf;
import dev.arbor.api.repair.v1.LeafPage;
import dev.arbor.api.repair.v1.LeafRequest;
import dev.arbor.api.repair.v1.PropertyExchange;
import dev.arbor.api.repair.v1.PropertyExchangeReply;
import dev.arbor.api.repair.v1.RootCompare;
import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SessionResponse;
import dev.arbor.api.repair.v1.SlotHash;
import dev.arbor.api.repair.v1.TreeRoot;
import dev.arbor.observability.trace.Tracer;
import dev.arbor.property.EntityKey;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.LastWriteWins;
import dev.arbor.property.PropertyRecord;
import dev.arbor.repair.tree.CorruptTreeException;
import dev.arbor.repair.tree.RepairTrees;
import dev.arbor.repair.tree.ServedTree;
import dev.arbor.repair.tree.SlotSummary;
import dev.arbor.repair.tree.TreeFileReader;
import dev.arbor.repair.tree.TreeLeaf;
import dev.arbor.repair.tree.TreeSummary;
import dev.arbor.repair.tree.TreeUnavailableException;
import dev.arbor.storage.ApplyOutcome;
import dev.arbor.storage.IncarnationGate;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardWrite;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of one repair session: answers each client request with exactly one response,
 * in order, on the gRPC thread that delivered it (the client waits for every answer, so nothing
 * queues up). Holds the served tree for the session so a concurrent rebuild cannot change the
 * leaves under a cursor.
 */
final class RepairSessionServer implements StreamObserver<SessionRequest> {
  private static final Logger LOG = LoggerFactory.getLogger(RepairSessionServer.class);
  /** Records per page are also capped by bytes, so a page stays far below the message limit. */
  static final int MAX_PAGE_BYTES = 4 << 20;
  static final int MAX_PAGE_ITEMS = 4096;
  private static final int RECORD_CHUNK = 128;
  /** Fetched records read at once for an exchange reply. */
  private static final int FETCH_CHUNK = 16;

  private final StreamObserver<SessionResponse> out;
  private final PropertyStore store;
  private final RepairTrees trees;
  private final ShardCheck shardCheck;
  private final IncarnationGate incarnations;
  private final Duration treeWait;
  private final Tracer tracer;
  private final SessionObserver observer;
  private final BiConsumer<String, Integer> rebuild;

  private String group;
  private int shard = -1;
  /** The session's (group, shard) exists on this node: only then is the session observed (spans, metrics). */
  private boolean exists;
  private int shardNum;
  /** This node's incarnation of the group, which the client's matched; empty when unknown to both. */
  private java.util.Map<String, GroupIncarnation> claimed = java.util.Map.of();
  private String client = "?";
  private ServedTree tree;
  private SlotLeaves cursor;
  private Tracer.Span span;
  private long stored;
  private final Rejections rejections = new Rejections();
  private long sent;
  private long bytesIn;
  private long bytesOut;
  private boolean done;
  private final BulkSettings bulk;
  private BulkReceiver receiver;
  private BulkSource source;
  private final SessionProtocols protocols;
  /** The protocol agreed at tree_root. */
  private int protocol = SessionProtocols.SLOTS_AND_BUCKETS;
  private DescentServer descent;

  RepairSessionServer(StreamObserver<SessionResponse> out, PropertyStore store, RepairTrees trees,
      ShardCheck shardCheck, IncarnationGate incarnations, Duration treeWait, Tracer tracer,
      SessionObserver observer, BiConsumer<String, Integer> rebuild, BulkSettings bulk) {
    this(out, store, trees, shardCheck, incarnations, treeWait, tracer, observer, rebuild, bulk,
        SessionProtocols.DEFAULTS);
  }

  RepairSessionServer(StreamObserver<SessionResponse> out, PropertyStore store, RepairTrees trees,
      ShardCheck shardCheck, IncarnationGate incarnations, Duration treeWait, Tracer tracer,
      SessionObserver observer, BiConsumer<String, Integer> rebuild, BulkSettings bulk, SessionProtocols protocols) {
    this.protocols = protocols;
    this.bulk = bulk;
    this.out = out;
    this.store = store;
    this.trees = trees;
    this.shardCheck = shardCheck;
    this.incarnations = incarnations;
    this.treeWait = treeWait;
    this.tracer = tracer;
    this.observer = observer;
    this.rebuild = rebuild;
  }

  @Override
  public void onNext(SessionRequest req) {
    if (done) {
      return;
    }
    bytesIn += req.getSerializedSize();
    try {
      SessionResponse resp = switch (req.getBodyCase()) {
        case TREE_ROOT -> SessionResponse.newBuilder().setRootCompare(open(req.getTreeRoot())).build();
        case BUCKETS -> SessionResponse.newBuilder().setBuckets(buckets(req.getBuckets())).build();
        case DESCEND -> SessionResponse.newBuilder().setDescend(descend(req.getDescend())).build();
        case LEAVES -> SessionResponse.newBuilder().setLeaves(leaves(req.getLeaves())).build();
        case EXCHANGE -> SessionResponse.newBuilder().setExchange(exchange(req.getExchange())).build();
        case BULK_OFFER -> SessionResponse.newBuilder().setBulkOffer(bulkReceiver().offer(req.getBulkOffer(),
            tree.summary().leafCount() == 0)).build();
        case BULK_CHUNK -> SessionResponse.newBuilder().setBulkChunk(bulkReceiver().chunk(req.getBulkChunk())).build();
        case BULK_ATTACH -> SessionResponse.newBuilder().setBulkAttached(attachBulk()).build();
        case BULK_PULL -> SessionResponse.newBuilder().setBulkManifest(bulkSource().manifest(req.getBulkPull(),
            store.incarnation(group))).build();
        case BULK_READ -> SessionResponse.newBuilder().setBulkData(bulkSource().read(req.getBulkRead())).build();
        case FINISH -> SessionResponse.newBuilder().setFinish(FinishAck.newBuilder()
            .setStored(stored).setBytesReceived(bytesIn).setBytesSent(bytesOut)).build();
        case BODY_NOT_SET -> throw new SessionProtocolException("request without a body");
      };
      bytesOut += resp.getSerializedSize();
      out.onNext(resp);
      if (req.hasFinish()) {
        // Everything valid was exchanged and the client told; a session that had to refuse
        // records still failed: the replicas disagree on what belongs to the shard.
        boolean fails = rejections.any()
            && !shardCheck.defects().has(dev.arbor.property.Defect.REJECTED_RECORDS_COMPLETE);
        end(fails ? rejections.describe("pushed record(s) from " + client) : null);
        out.onCompleted();
      }
    } catch (SessionProtocolException e) {
      fail(Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
    } catch (TreeUnavailableException e) {
      fail(Status.FAILED_PRECONDITION.withDescription(e.getMessage()));
    } catch (IncarnationMismatchException | TreeFormatMismatchException | ProtocolMismatchException e) {
      fail(Status.FAILED_PRECONDITION.withDescription(e.getMessage()));
    } catch (dev.arbor.storage.BulkRefusedException e) {
      fail(Status.FAILED_PRECONDITION.withDescription("bulk transfer refused: " + e.getMessage()));
    } catch (org.apache.lucene.index.CorruptIndexException e) {
      fail(Status.DATA_LOSS.withDescription("bulk transfer: a received file failed its checksum: " + e.getMessage()));
    } catch (dev.arbor.errors.UnavailableException e) {
      // This node's copy is out of service (a fatal index error): the message names it.
      fail(Status.UNAVAILABLE.withDescription(e.getMessage()));
    } catch (dev.arbor.errors.WriteOutcomeUnknownException e) {
      LOG.error("repair session of {}/{} from {}: pushed records with an unknown outcome", group, shard, client, e);
      fail(Status.INTERNAL.withDescription("repair session failed on the server: " + e.getMessage()));
    } catch (UncheckedIOException | IOException e) {
      Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
      if (cause instanceof CorruptTreeException && group != null) {
        trees.invalidate(group, shard, cause.getMessage());
      }
      fail(Status.INTERNAL.withDescription("repair session failed on the server: " + cause.getMessage()));
    } catch (RuntimeException e) {
      LOG.error("repair session of {}/{} from {} failed", group, shard, client, e);
      fail(Status.INTERNAL.withDescription("repair session failed on the server: " + e));
    }
  }

  private RootCompare open(TreeRoot root) {
    if (group != null) {
      throw new SessionProtocolException("tree_root sent twice");
    }
    group = root.getGroup();
    shard = root.getShard();
    client = root.getClientNode().isEmpty() ? "?" : root.getClientNode();
    OptionalInt shards = shardCheck.shardNum(group);
    String refusal = ShardCheck.refusal(group, shard, shards);
    if (refusal != null) {
      // Not a shard of this node: the session leaves no span and no metric series, so a stream of
      // sessions for made-up groups or shards cannot grow either (each series lives as long as the process).
      return RootCompare.newBuilder().setTreeFound(false).setReason(refusal).build();
    }
    exists = true;
    String parent = root.hasTrace() ? root.getTrace().getParentSpanId() : "";
    String traceId = root.hasTrace() && !root.getTrace().getTraceId().isEmpty()
        ? root.getTrace().getTraceId() : group + "_" + shard + "_" + client + "_" + tracer.now();
    span = tracer.start(traceId, parent, "serve repair session", group, shard, 0).tag("client_node", client);
    refusal = shardCheck.copyRefusal(group, shard);
    if (refusal != null) {
      return RootCompare.newBuilder().setTreeFound(false).setReason(refusal).build();
    }
    shardNum = shards.getAsInt();
    if (root.getTreeFormat() != TreeFileReader.CURRENT_FORMAT) {
      observer.treeFormatMismatch(group, shard, client, "server", root.getTreeFormat());
      throw new TreeFormatMismatchException("repair of " + group + "/" + shard + " with " + client + " refused: its"
          + " repair trees are of format " + formatName(root.getTreeFormat()) + ", this node's of format "
          + TreeFileReader.CURRENT_FORMAT + "; trees of different formats are never compared (finish the rolling"
          + " upgrade: every node on the same release)");
    }
    int theirs = SessionProtocols.announced(root.getProtocol());
    protocol = Math.min(theirs, protocols.max());
    if (!protocols.speaks(protocol)) {
      observer.protocolMismatch(group, shard, client, "server", theirs);
      throw new ProtocolMismatchException("repair of " + group + "/" + shard + " with " + client + " refused: its"
          + " newest repair session protocol is " + theirs + ", this node speaks " + protocols
          + "; no version in common (finish the rolling upgrade: every node on the same release)");
    }
    if (protocol < protocols.max()) {
      // The client is of an older release: this node runs its protocol (counted until all upgraded).
      observer.protocolFallback(group, shard, client, "server", protocol);
    }
    java.util.Optional<GroupIncarnation> claim;
    try {
      claim = GroupIncarnation.ofOptionalBytes(root.getGroupIncarnation().toByteArray());
    } catch (IllegalArgumentException e) {
      throw new SessionProtocolException("tree_root.group_incarnation: " + e.getMessage());
    }
    String mismatch = incarnations.refusal(group, claim);
    if (mismatch != null) {
      throw new IncarnationMismatchException("repair of " + group + "/" + shard + " with " + client
          + " refused: " + mismatch);
    }
    java.util.Optional<GroupIncarnation> mine = store.incarnation(group);
    claimed = mine.map(i -> java.util.Map.of(group, i)).orElse(java.util.Map.of());
    try {
      trees.ensureCurrent(group, shard, treeWait);
    } catch (TreeUnavailableException e) {
      return RootCompare.newBuilder().setTreeFound(false).setReason(e.getMessage()).build();
    }
    tree = trees.acquire(group, shard).orElse(null);
    if (tree == null) {
      return RootCompare.newBuilder().setTreeFound(false).setReason("tree of " + group + "/" + shard
          + " was dropped").build();
    }
    TreeSummary s = tree.summary();
    boolean match = Arrays.equals(s.root(), root.getRoot().toByteArray())
        && s.header().slotCount() == root.getSlotCount();
    span.tag("root_match", match).tag("leaf_count", s.leafCount());
    RootCompare.Builder b = RootCompare.newBuilder().setTreeFound(true).setRootMatch(match)
        .setSlotCount(s.header().slotCount()).setTreeFormat(TreeFileReader.CURRENT_FORMAT).setProtocol(protocol);
    mine.ifPresent(i -> b.setGroupIncarnation(ByteString.copyFrom(i.toBytes())));
    if (!match && protocol >= SessionProtocols.DESCENT) {
      // 8 bytes of each slot hash tell differing slots apart as well as 64 (a slot hash is a
      // sum of SHA-512 digests, so each 8-byte lane is itself uniformly distributed).
      byte[] digests = new byte[s.slots().size() * 8];
      for (SlotSummary slot : s.slots()) {
        System.arraycopy(slot.hash(), 0, digests, slot.index() * 8, 8);
        b.addSlotLeafCounts(slot.leafCount());
      }
      b.setSlotDigests(ByteString.copyFrom(digests));
    } else if (!match) {
      for (SlotSummary slot : s.slots()) {
        b.addSlots(SlotHash.newBuilder().setIndex(slot.index()).setLeafCount(slot.leafCount())
            .setHash(ByteString.copyFrom(slot.hash())));
      }
    }
    return b.build();
  }

  private BulkReceiver bulkReceiver() {
    requireOpen();
    if (receiver == null) {
      receiver = new BulkReceiver(store, bulk, group, shard, () -> shardCheck.copyRefusal(group, shard),
          KeyRouting.of(group, shard, shardNum));
    }
    return receiver;
  }

  private BulkSource bulkSource() {
    requireOpen();
    if (source == null) {
      source = new BulkSource(store, bulk, group, shard, () -> shardCheck.copyRefusal(group, shard),
          KeyRouting.of(group, shard, shardNum));
    }
    return source;
  }

  private dev.arbor.api.repair.v1.BulkAttached attachBulk() throws IOException {
    dev.arbor.api.repair.v1.BulkAttached a = bulkReceiver().attach();
    BulkFigures f = receiver.attached();
    stored += a.getDocuments();
    observer.bulkTransferred(group, shard, "received", f.files(), f.bytes());
    if (span != null) {
      span.tag("bulk_files", f.files()).tag("bulk_bytes", f.bytes()).tag("bulk_keys_resolved", f.keysResolved());
    }
    return a;
  }

  private void requireOpen() {
    if (tree == null) {
      throw new SessionProtocolException("no tree open in this session (send tree_root first)");
    }
  }

  private int checkSlot(int slot) {
    if (slot < 0 || slot >= tree.summary().slots().size()) {
      throw new SessionProtocolException("slot " + Integer.toUnsignedString(slot) + " out of range 0.."
          + (tree.summary().slots().size() - 1));
    }
    return slot;
  }

  private static int checkBucketCount(int n) {
    if (n < 1 || n > LeafBuckets.MAX_BUCKETS) {
      throw new SessionProtocolException("bucket_count must be 1.." + LeafBuckets.MAX_BUCKETS + ", got "
          + Integer.toUnsignedString(n));
    }
    return n;
  }

  private BucketDigests buckets(BucketRequest r) throws IOException {
    requireOpen();
    int slot = checkSlot(r.getSlot());
    int n = checkBucketCount(r.getBucketCount());
    byte[] digests;
    if (tree.isEmpty()) {
      digests = new byte[n * LeafBuckets.DIGEST_BYTES];
    } else {
      try (var it = tree.leaves(slot)) {
        digests = LeafBuckets.digests(it, n);
      }
    }
    return BucketDigests.newBuilder().setSlot(slot).setBucketCount(n)
        .setDigests(ByteString.copyFrom(digests)).build();
  }

  private dev.arbor.api.repair.v1.DescendReply descend(dev.arbor.api.repair.v1.DescendRequest r) throws IOException {
    requireOpen();
    if (protocol < SessionProtocols.DESCENT) {
      throw new SessionProtocolException("descend in a session of protocol " + protocol);
    }
    if (descent == null) {
      descent = new DescentServer(tree, protocol >= SessionProtocols.LISTED_REVISIONS ? this::revisions : null);
    }
    return descent.answer(r, tree.summary().slots().size());
  }

  /** The mod revision of this node's current copy of each entity (0 where it holds none). */
  private long[] revisions(List<String> entities) {
    List<EntityKey> keys = new ArrayList<>(entities.size());
    for (String e : entities) {
      keys.add(EntityKey.parse(e));
    }
    PropertyRecord[] found = store.latestAll(group, shard, keys);
    long[] out = new long[found.length];
    for (int i = 0; i < found.length; i++) {
      out[i] = found[i] == null ? 0 : found[i].modRevision();
    }
    return out;
  }

  private LeafPage leaves(LeafRequest r) throws IOException {
    requireOpen();
    int slot = checkSlot(r.getSlot());
    BitSet buckets = null;
    int n = 1;
    if (r.getBucketsCount() > 0) {
      n = checkBucketCount(r.getBucketCount());
      buckets = new BitSet(n);
      for (int b : r.getBucketsList()) {
        if (b < 0 || b >= n) {
          throw new SessionProtocolException("bucket " + Integer.toUnsignedString(b) + " out of range 0.." + (n - 1));
        }
        buckets.set(b);
      }
    }
    byte[] after = r.getAfter().toByteArray();
    boolean reuse = cursor != null && cursor.serves(slot, n, buckets)
        && (after.length == 0 ? cursor.position() == null : Arrays.equals(after, cursor.position()));
    if (!reuse) {
      if (cursor != null) {
        cursor.close();
      }
      cursor = new SlotLeaves(tree, slot, n, buckets);
      if (after.length > 0) {
        cursor.skipThrough(after);
      }
    }
    // uint32 on the wire: 2^31 and above read as negative ints here, and a page of at most a
    // negative number of items would be empty yet say "more", so a client would page forever.
    long asked = Integer.toUnsignedLong(r.getMaxItems());
    int max = asked == 0 ? 1024 : (int) Math.min(asked, MAX_PAGE_ITEMS);
    LeafPage.Builder page = LeafPage.newBuilder();
    long bytes = 0;
    int items = 0;
    byte[] truncatedAfter = null;
    if (r.getRecords()) {
      // Records are read in chunks of leaves (entity order = index order: sequential reads).
      chunks:
      while (items < max && bytes < MAX_PAGE_BYTES && cursor.hasNext()) {
        List<EntityKey> keys = new ArrayList<>(RECORD_CHUNK);
        while (keys.size() < RECORD_CHUNK && items < max && cursor.hasNext()) {
          keys.add(EntityKey.parse(cursor.next().entity()));
          items++;
        }
        PropertyRecord[] found = store.latestAll(group, shard, keys);
        for (int j = 0; j < found.length; j++) {
          if (bytes >= MAX_PAGE_BYTES && page.getRecordsCount() > 0) {
            // Large records: the page is full mid-chunk; the next page starts after the last
            // key handled here (the cursor, already further, is reopened there).
            truncatedAfter = keys.get(j - 1).entityUtf8();
            break chunks;
          }
          if (found[j] != null) {
            StoredProperty p = RecordCodec.toProto(group, shard, found[j]);
            bytes += p.getSerializedSize();
            page.addRecords(p);
            sent++;
          }
        }
      }
    } else {
      while (items < max && bytes < MAX_PAGE_BYTES && cursor.hasNext()) {
        TreeLeaf l = cursor.next();
        items++;
        page.addLeaves(Leaf.newBuilder().setEntity(ByteString.copyFrom(l.entityUtf8()))
            .setShaPrefix(ByteString.copyFrom(l.sha(), 0, 16)));
        bytes += l.entityUtf8().length + 20;
      }
    }
    if (truncatedAfter != null) {
      return page.setLastEntity(ByteString.copyFrom(truncatedAfter)).setMore(true).build();
    }
    if (cursor.position() != null) {
      page.setLastEntity(ByteString.copyFrom(cursor.position()));
    }
    return page.setMore(cursor.hasNext()).build();
  }

  private PropertyExchangeReply exchange(PropertyExchange x) {
    requireOpen();
    PropertyExchangeReply.Builder reply = PropertyExchangeReply.newBuilder();
    long replyBytes = 0;
    List<ShardWrite> writes = new ArrayList<>(x.getPushCount());
    int rejected = 0;
    for (StoredProperty p : x.getPushList()) {
      try {
        writes.add(RecordCodec.check(p, group, shard, shardNum, shardCheck.revisionBound(), shardCheck.defects()));
      } catch (RecordCodec.RejectedRecordException e) {
        rejected++;
        rejections.add(e.getMessage());
        if (reply.getRejectedReasonsCount() < Rejections.MAX_REASONS) {
          reply.addRejectedReasons(e.getMessage());
        }
      }
    }
    if (rejected > 0) {
      observer.recordsRejected(group, shard, rejected);
    }
    List<ApplyOutcome> outcomes = writes.isEmpty() ? List.of() : store.applyEach(writes, claimed);
    int took = 0;
    List<ShardWrite> lost = new ArrayList<>();
    for (int i = 0; i < outcomes.size(); i++) {
      switch (outcomes.get(i)) {
        case STORED -> took++;
        case WRONG_INCARNATION -> {
          // The group was deleted and re-created here during the session.
          String why = "group " + group + " changed incarnation on this node during the session";
          rejected++;
          rejections.add(why);
          if (reply.getRejectedReasonsCount() < Rejections.MAX_REASONS) {
            reply.addRejectedReasons(why);
          }
        }
        default -> lost.add(writes.get(i));
      }
    }
    stored += took;
    if (!lost.isEmpty()) {
      // Not stored: ours is at least as new. Send it back only when it strictly wins, so
      // versions equal under last-write-wins never bounce (no echo loop).
      PropertyRecord[] mine = store.latestAll(group, shard, lost.stream().map(w -> w.record().key()).toList());
      for (int i = 0; i < mine.length; i++) {
        if (mine[i] != null && LastWriteWins.beats(mine[i], lost.get(i).record())) {
          replyBytes = addBounded(reply, mine[i], true, replyBytes);
        }
      }
    }
    List<EntityKey> fetch = new ArrayList<>(x.getFetchCount() + x.getFetchListedCount());
    for (String entity : x.getFetchList()) {
      try {
        fetch.add(EntityKey.parse(entity));
      } catch (IllegalArgumentException e) {
        throw new SessionProtocolException("fetch: not an entity: " + entity);
      }
    }
    if (x.getFetchListedCount() > 0) {
      if (descent == null) {
        throw new SessionProtocolException("fetch_listed without a descent");
      }
      for (int number : x.getFetchListedList()) {
        fetch.add(EntityKey.parse(descent.listedEntity(number)));
      }
    }
    // Read in small chunks, and not at all once the reply is full: the rest is deferred by name,
    // so a long fetch list of large records is read once, not once per reply it is deferred over.
    for (int from = 0; from < fetch.size(); from += FETCH_CHUNK) {
      List<EntityKey> chunk = fetch.subList(from, Math.min(fetch.size(), from + FETCH_CHUNK));
      if (replyBytes >= MAX_PAGE_BYTES && (reply.getFetchedCount() + reply.getNewerCount()) > 0) {
        chunk.forEach(k -> reply.addDeferred(k.entity()));
        continue;
      }
      for (PropertyRecord mine : store.latestAll(group, shard, chunk)) {
        if (mine != null) {
          replyBytes = addBounded(reply, mine, false, replyBytes);
        }
      }
    }
    return reply.setStored(took).setRejected(rejected).build();
  }

  /**
   * Adds a record to the reply unless the reply is already full (bounded in bytes, so large
   * properties never exceed the message limit); a record that does not fit is deferred: the
   * client fetches it again.
   */
  private long addBounded(PropertyExchangeReply.Builder reply, PropertyRecord r, boolean newer, long replyBytes) {
    if (replyBytes >= MAX_PAGE_BYTES && (reply.getFetchedCount() + reply.getNewerCount()) > 0) {
      reply.addDeferred(r.key().entity());
      return replyBytes;
    }
    StoredProperty p = RecordCodec.toProto(group, shard, r);
    if (newer) {
      reply.addNewer(p);
    } else {
      reply.addFetched(p);
    }
    sent++;
    return replyBytes + p.getSerializedSize();
  }

  @Override
  public void onError(Throwable t) {
    end(Status.fromThrowable(t).toString());
  }

  @Override
  public void onCompleted() {
    if (!done) {
      // Half-close without Finish: the client gave up; everything it sent was answered.
      end("client closed the stream without finishing");
      out.onCompleted();
    }
  }

  private void fail(Status status) {
    end(status.getDescription());
    out.onError(status.asRuntimeException());
  }

  private void end(String error) {
    if (done) {
      return;
    }
    done = true;
    if (receiver != null) {
      try {
        receiver.close();
      } catch (RuntimeException e) {
        LOG.warn("dropping the staged files of a bulk transfer into {}/{} failed", group, shard, e);
      }
    }
    if (source != null) {
      if (source.bytes() > 0) {
        observer.bulkTransferred(group, shard, "sent", source.files(), source.bytes());
        if (span != null) {
          span.tag("bulk_files", source.files()).tag("bulk_bytes", source.bytes());
        }
      }
      try {
        source.close();
      } catch (IOException | RuntimeException e) {
        LOG.warn("releasing the commit held for a bulk transfer of {}/{} failed", group, shard, e);
      }
    }
    if (cursor != null) {
      cursor.close();
    }
    if (tree != null) {
      tree.close();
    }
    if (span != null) {
      span.tag("stored", stored).tag("rejected", rejections.count()).tag("sent", sent).tag("bytes_received", bytesIn).tag("bytes_sent", bytesOut);
      if (error == null) {
        span.end();
      } else {
        span.fail(error);
      }
    }
    if (exists) {
      observer.serverSessionEnded(group, shard, client, stored, sent, bytesIn, bytesOut, error);
      if (stored > 0) {
        rebuild.accept(group, shard);
      }
    }
  }

  /** The client holds another incarnation of the group; the session ends with FAILED_PRECONDITION. */
  static final class IncarnationMismatchException extends RuntimeException {
    IncarnationMismatchException(String message) {
      super(message);
    }
  }

  /** "2 or older" for a peer that predates the field (it sends 0). */
  static String formatName(int format) {
    return format == 0 ? "2 or older" : Integer.toString(format);
  }

  /** The client's trees are of another format; the session ends with FAILED_PRECONDITION. */
  static final class TreeFormatMismatchException extends RuntimeException {
    TreeFormatMismatchException(String message) {
      super(message);
    }
  }

  /** The two speak no session protocol in common; the session ends with FAILED_PRECONDITION. */
  static final class ProtocolMismatchException extends RuntimeException {
    ProtocolMismatchException(String message) {
      super(message);
    }
  }

  /** The client broke the protocol; the session ends with INVALID_ARGUMENT. */
  static final class SessionProtocolException extends RuntimeException {
    SessionProtocolException(String message) {
      super(message);
    }
  }
}
