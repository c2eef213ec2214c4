package dev.arbor.repair.sync;

import dev.arbor.runtime.Ticker;
import com.google.protobuf.ByteString;
import dev.arbor.api.cluster.v1.StoredProperty;
import dev.arbor.api.repair.v1.BucketRequest;
import dev.arbor.api.repair.v1.Finish;
import dev.arbor.api.repair.v1.Leaf;
import dev.arbor.api.repair.v1.LeafPage;
import dev.arbor.api.repair.v1.LeafRequest;
import dev.arbor.api.repair.v1.PropertyExchange;
import dev.arbor.api.repair.v1.PropertyExchangeReply;
import dev.arbor.api.repair.v1.RootCompare;
import dev.arbor.api.repair.v1.SessionRequest;
import dev.arbor.api.repair.v1.SlotHash;
import dev.arbor.api.repair.v1.TraceContext;
import dev.arbor.api.repair.v1.TreeRoot;
import dev.arbor.property.EntityKey;
import dev.arbor.property.GroupIncarnation;
import dev.arbor.property.PropertyRecord;
import dev.arbor.repair.tree.CorruptTreeException;
import dev.arbor.repair.tree.RepairTrees;
import dev.arbor.repair.tree.ServedTree;
import dev.arbor.repair.tree.SlotSummary;
import dev.arbor.repair.tree.TreeFileReader;
import dev.arbor.repair.tree.TreeLeaf;
import dev.arbor.repair.tree.TreeUnavailableException;
import dev.arbor.storage.ApplyOutcome;
import dev.arbor.storage.IncarnationGate;
import dev.arbor.storage.PropertyStore;
import dev.arbor.storage.ShardFiles;
import dev.arbor.storage.ShardWrite;
import io.grpc.Channel;
import io.grpc.Deadline;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.BiConsumer;

/**
 * The client side of a repair session: makes its own tree current, compares roots, then slots
 * (and, for large slots, buckets of leaves), merge-joins the server's leaf pages of every
 * differing slot against its own in entity order, and exchanges the records that differ in
 * batches — its winners pushed, the server's fetched — until both hold the last-write-wins
 * winner of every key. Ends with Finish / FinishAck, so nothing sent is lost.
 *
 * <p>Received records that fail their checks (hash, group, shard, routing under the group's
 * shard count) are never stored; the session still exchanges everything else, then fails saying
 * how many were rejected and why. Records this node pushed that the server rejected abort the
 * round (by the peer's checks this node's own copies are at fault, or the two disagree on the
 * group's shards); records the server sent that this node rejected fail only this hop, so the
 * round moves on to the next node.
 *
 * <p>Both sides must hold the same incarnation of the group (the client sends its own with the root,
 * the server answers with its own): data of a group deleted and re-created under the same name is
 * never repaired into the new one; a mismatch fails the session.
 *
 * <p>One instance serves any number of sequential or concurrent sessions; the state of a session
 * lives in {@link Session}.
 */
public final class RepairSessionClient {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RepairSessionClient.class);
  static final int LEAF_PAGE = 1024;
  static final int PUSH_BATCH_BYTES = 4 << 20;
  static final int FETCH_BATCH = 1024;
  static final int PUSH_LOOKUP_CHUNK = 128;

  private final String nodeId;
  private final PropertyStore store;
  private final RepairTrees trees;
  private final ShardCheck shardCheck;
  private final IncarnationGate incarnations;
  private final Duration treeWait;
  private final Duration replyTimeout;
  private final SessionObserver observer;
  private final BiConsumer<String, Integer> rebuild;
  private final BulkSettings bulk;
  private final SessionProtocols protocols;
  private final Ticker ticker;
  /** Differing slots descended into together are bounded by this many leaves (24 bytes each, per side). */
  static final long DESCENT_GROUP_LEAVES = 1L << 20;

  public RepairSessionClient(String nodeId, PropertyStore store, RepairTrees trees, ShardCheck shardCheck,
      IncarnationGate incarnations, Duration treeWait, Duration replyTimeout, SessionObserver observer,
      BiConsumer<String, Integer> rebuild) {
    this(nodeId, store, trees, shardCheck, incarnations, treeWait, replyTimeout, observer, rebuild,
        BulkSettings.DEFAULTS);
  }

  /** @param bulk whether this node offers bulk transfers to peers whose copy is empty */
  public RepairSessionClient(String nodeId, PropertyStore store, RepairTrees trees, ShardCheck shardCheck,
      IncarnationGate incarnations, Duration treeWait, Duration replyTimeout, SessionObserver observer,
      BiConsumer<String, Integer> rebuild, BulkSettings bulk) {
    this(nodeId, store, trees, shardCheck, incarnations, treeWait, replyTimeout, observer, rebuild, bulk,
        SessionProtocols.DEFAULTS);
  }

  /** @param protocols the session protocols this node speaks (tests stand in for other releases) */
  public RepairSessionClient(String nodeId, PropertyStore store, RepairTrees trees, ShardCheck shardCheck,
      IncarnationGate incarnations, Duration treeWait, Duration replyTimeout, SessionObserver observer,
      BiConsumer<String, Integer> rebuild, BulkSettings bulk, SessionProtocols protocols) {
    this(nodeId, store, trees, shardCheck, incarnations, treeWait, replyTimeout, observer, rebuild, bulk, protocols,
        Ticker.system());
  }

  /** @param ticker times sessions (the node runtime's) */
  public RepairSessionClient(String nodeId, PropertyStore store, RepairTrees trees, ShardCheck shardCheck,
      IncarnationGate incarnations, Duration treeWait, Duration replyTimeout, SessionObserver observer,
      BiConsumer<String, Integer> rebuild, BulkSettings bulk, SessionProtocols protocols, Ticker ticker) {
    this.ticker = ticker;
    this.protocols = protocols;
    this.bulk = bulk;
    this.nodeId = nodeId;
    this.store = store;
    this.trees = trees;
    this.shardCheck = shardCheck;
    this.incarnations = incarnations;
    this.treeWait = treeWait;
    this.replyTimeout = replyTimeout;
    this.observer = observer;
    this.rebuild = rebuild;
  }

  /**
   * Repairs (group, shard) between this node and {@code peer} in both directions.
   *
   * @throws SyncFailedException on any failure; {@link SyncFailedException#abortsRound()} when
   *     this node cannot take part at all
   */
  public SessionFigures run(Channel channel, String peer, String group, int shard, TraceContext trace,
      Deadline deadline) {
    return run(SessionStreams.grpc(channel), peer, group, shard, trace, deadline);
  }

  /** As above, the session's stream opened through {@code streams}. */
  public SessionFigures run(SessionStreams streams, String peer, String group, int shard, TraceContext trace,
      Deadline deadline) {
    long t0 = ticker.read();
    Session s = new Session(peer, group, shard, bulk.enabled());
    // Figures of a finished bulk session while its follow-up runs.
    SessionFigures before = null;
    boolean pulled = false;
    try {
      OptionalInt shards = shardCheck.shardNum(group);
      String refusal = ShardCheck.refusal(group, shard, shards);
      if (refusal != null) {
        throw new SyncFailedException("this node cannot repair " + group + "/" + shard + ": " + refusal, true, null);
      }
      String orphan = shardCheck.copyRefusal(group, shard);
      if (orphan != null) {
        throw new SyncFailedException("this node cannot repair " + group + "/" + shard + ": " + orphan, true, null);
      }
      s.shardNum = shards.getAsInt();
      // Data of a deleted namesake is dropped before this node's tree is made current.
      s.incarnation = incarnations.current(group);
      SessionFigures f = attempt(s, streams, trace, deadline, t0);
      if (s.bulk.used()) {
        pulled = s.repairedToClient > 0;
        // One copy now holds the other's snapshot: a record session compares the trees and
        // repairs whatever either side wrote meanwhile.
        before = f;
        Session next = new Session(peer, group, shard, false);
        next.shardNum = s.shardNum;
        next.incarnation = s.incarnation;
        s = next;
        f = before.then(attempt(next, streams, trace, deadline, ticker.read()));
      }
      observer.clientSessionEnded(group, shard, peer, f, null);
      return f;
    } catch (UncheckedIOException e) {
      if (e.getCause() instanceof CorruptTreeException) {
        trees.invalidate(group, shard, e.getCause().getMessage());
      }
      SyncFailedException f = new SyncFailedException("reading this node's tree failed: " + e.getCause().getMessage(),
          true, e);
      observer.clientSessionEnded(group, shard, peer, soFar(before, s, t0), f.getMessage());
      throw f;
    } catch (SyncFailedException e) {
      observer.clientSessionEnded(group, shard, peer, soFar(before, s, t0), e.getMessage());
      throw e;
    } catch (dev.arbor.errors.UnavailableException e) {
      // This node's copy is out of service (a fatal index error): it cannot take part at all.
      SyncFailedException f = new SyncFailedException("this node cannot repair " + group + "/" + shard + ": "
          + e.getMessage(), true, e);
      observer.clientSessionEnded(group, shard, peer, s.figures(ticker.read() - t0), f.getMessage());
      throw f;
    } catch (RuntimeException e) {
      SyncFailedException f = new SyncFailedException("repair with " + peer + " failed: " + e, false, e);
      observer.clientSessionEnded(group, shard, peer, soFar(before, s, t0), f.getMessage());
      throw f;
    } finally {
      if (pulled || s.repairedToClient > 0) {
        rebuild.accept(group, shard);
      }
    }
  }

  private SessionFigures soFar(SessionFigures before, Session s, long t0) {
    return before == null ? s.figures(ticker.read() - t0) : before.then(s.figures(0));
  }

  /** One session over the stream: this node's tree made current, compared, differences exchanged. */
  private SessionFigures attempt(Session s, SessionStreams streams, TraceContext trace, Deadline deadline,
      long t0) {
    try {
      trees.ensureCurrent(s.group, s.shard, treeWait);
    } catch (TreeUnavailableException e) {
      throw new SyncFailedException("this node's tree of " + s.group + "/" + s.shard + " is unavailable: "
          + e.getMessage(), true, e);
    }
    ServedTree tree = trees.acquire(s.group, s.shard).orElseThrow(() -> new SyncFailedException(
        "this node's tree of " + s.group + "/" + s.shard + " was dropped", true, null));
    try (tree; Conversation c = new Conversation(streams, s.peer, deadline, replyTimeout)) {
      s.conversation = c;
      s.tree = tree;
      s.run(trace);
      return s.figures(ticker.read() - t0);
    }
  }

  /** One session's state. */
  private final class Session {
    private final String peer;
    private final String group;
    private final int shard;
    private int shardNum;
    private java.util.Optional<GroupIncarnation> incarnation = java.util.Optional.empty();
    /** Records this node pushed that the server refused. */
    private final Rejections pushRejected = new Rejections();
    /** Records the server sent that this node refused. */
    private final Rejections pullRejected = new Rejections();
    private Conversation conversation;
    private ServedTree tree;
    private boolean rootMatch;
    private int slotsDiffering;
    private long leavesCompared;
    private long repairedToServer;
    private long repairedToClient;
    private long recordBytes;
    private int protocol = SessionProtocols.SLOTS_AND_BUCKETS;
    private final List<Integer> fetchListed = new ArrayList<>();
    private final List<StoredProperty> push = new ArrayList<>();
    private final List<EntityKey> pushKeys = new ArrayList<>();
    /** Per queued push: null, or {server's revision, listed number} of a leaf the server holds otherwise. */
    private final List<long[]> pushRivals = new ArrayList<>();
    private boolean exchangeInFlight;
    private long pushBytes;
    private final List<String> fetch = new ArrayList<>();

    /** Offer a bulk transfer when the server's copy is empty. */
    private final boolean offerBulk;
    private BulkFigures bulk = BulkFigures.NONE;

    Session(String peer, String group, int shard, boolean offerBulk) {
      this.offerBulk = offerBulk;
      this.peer = peer;
      this.group = group;
      this.shard = shard;
    }

    SessionFigures figures(long nanos) {
      Conversation c = conversation;
      return new SessionFigures(rootMatch, slotsDiffering, leavesCompared, repairedToServer, repairedToClient,
          c == null ? 0 : c.bytesSent(), c == null ? 0 : c.bytesReceived(), nanos, bulk, recordBytes, protocol);
    }

    void run(TraceContext trace) {
      var summary = tree.summary();
      TreeRoot.Builder root = TreeRoot.newBuilder().setGroup(group).setShard(shard)
          .setRoot(ByteString.copyFrom(summary.root())).setSlotCount(summary.header().slotCount())
          .setLeafCount(summary.leafCount()).setClientNode(nodeId).setTreeFormat(TreeFileReader.CURRENT_FORMAT)
          .setProtocol(protocols.max());
      if (trace != null) {
        root.setTrace(trace);
      }
      incarnation.ifPresent(i -> root.setGroupIncarnation(ByteString.copyFrom(i.toBytes())));
      RootCompare rc = conversation.call(SessionRequest.newBuilder().setTreeRoot(root).build()).getRootCompare();
      if (incarnation.isPresent() && !rc.getGroupIncarnation().isEmpty()
          && !Arrays.equals(rc.getGroupIncarnation().toByteArray(), incarnation.get().toBytes())) {
        throw new SyncFailedException("peer " + peer + " holds another incarnation of group " + group + " ("
            + GroupIncarnation.fromBytes(rc.getGroupIncarnation().toByteArray()) + ", this node "
            + incarnation.get() + "): the group was deleted and re-created; not repairing across them",
            false, null);
      }
      if (!rc.getTreeFound()) {
        throw new SyncFailedException("peer " + peer + " has no tree of " + group + "/" + shard + ": "
            + rc.getReason(), false, null);
      }
      if (rc.getTreeFormat() != TreeFileReader.CURRENT_FORMAT) {
        // An older server ignores the field and compares anyway: its root can never match, and
        // descending would "repair" every leaf. Nothing is compared; the round tries other peers.
        observer.treeFormatMismatch(group, shard, peer, "client", rc.getTreeFormat());
        throw new SyncFailedException("peer " + peer + " uses repair tree format "
            + RepairSessionServer.formatName(rc.getTreeFormat()) + ", this node format " + TreeFileReader.CURRENT_FORMAT
            + ": trees of different formats are never compared (finish the rolling upgrade)", false, null);
      }
      protocol = SessionProtocols.announced(rc.getProtocol());
      if (!protocols.speaks(protocol)) {
        observer.protocolMismatch(group, shard, peer, "client", protocol);
        throw new SyncFailedException("peer " + peer + " answered with repair session protocol " + protocol
            + ", this node speaks " + protocols + ": no version in common (finish the rolling upgrade)", false, null);
      }
      if (protocol < protocols.max()) {
        observer.protocolFallback(group, shard, peer, "client", protocol);
      }
      rootMatch = rc.getRootMatch();
      if (!rootMatch) {
        List<SlotHash> table = protocol >= SessionProtocols.DESCENT ? compactTable(rc) : rc.getSlotsList();
        if (rc.getSlotCount() != summary.header().slotCount() || table.size() != rc.getSlotCount()) {
          throw new SyncFailedException("peer " + peer + " uses " + rc.getSlotCount() + " tree slots, this node "
              + summary.header().slotCount() + ": set --tree-slots equal on every node", true, null);
        }
        boolean serverEmpty = table.stream().allMatch(h -> h.getLeafCount() == 0);
        if (offerBulk && serverEmpty && summary.leafCount() > 0 && sendBulk()) {
          // Every slot this node holds anything in differed; the files carried them all.
          slotsDiffering = (int) summary.slots().stream().filter(sl -> sl.leafCount() > 0).count();
        } else if (offerBulk && !serverEmpty && summary.leafCount() == 0 && pullBulk()) {
          slotsDiffering = (int) table.stream().filter(h -> h.getLeafCount() > 0).count();
        } else {
          compareSlots(table);
          do {
            flush();
            awaitExchange();
          } while (!fetch.isEmpty() || !push.isEmpty() || !fetchListed.isEmpty());
        }
      }
      conversation.call(SessionRequest.newBuilder().setFinish(Finish.getDefaultInstance()).build());
      conversation.finish();
      if ((pushRejected.any() || pullRejected.any())
          && !shardCheck.defects().has(dev.arbor.property.Defect.REJECTED_RECORDS_COMPLETE)) {
        List<String> why = new ArrayList<>(2);
        if (pushRejected.any()) {
          why.add(pushRejected.describe("record(s) pushed to it"));
        }
        if (pullRejected.any()) {
          why.add(pullRejected.describe("record(s) received from it"));
        }
        throw new SyncFailedException("repair of " + group + "/" + shard + " with peer " + peer + " failed: "
            + String.join("; and ", why), pushRejected.any(), null);
      }
    }

    /**
     * Offers the files of a commit of this shard to the server, whose copy is empty; true when
     * it attached them, false when it refused (the session goes on with records).
     */
    private boolean sendBulk() {
      try (ShardFiles files = store.bulkSnapshot(group, shard)) {
        if (files == null || files.documents() == 0) {
          return false;
        }
        String stranger = files.firstKeyNotMatching(KeyRouting.of(group, shard, shardNum));
        if (stranger != null) {
          // Records go one by one through the peer's checks, which name what is wrong.
          LOG.warn("{}/{} holds {}, which does not belong to the shard; repairing with records", group, shard,
              stranger);
          return false;
        }
        BulkSender.Outcome o = new BulkSender(conversation).send(files, incarnation);
        if (o.refusal() != null) {
          LOG.info("peer {} refused a bulk transfer of {}/{}: {}; repairing with records", peer, group, shard,
              o.refusal());
          return false;
        }
        bulk = o.figures();
        repairedToServer += bulk.documents();
        observer.bulkTransferred(group, shard, "sent", bulk.files(), bulk.bytes());
        LOG.info("bulk transfer of {}/{} to {}: {} file(s), {} bytes, {} document(s) attached", group, shard, peer,
            bulk.files(), bulk.bytes(), bulk.documents());
        return true;
      } catch (IOException e) {
        throw new SyncFailedException("bulk transfer of " + group + "/" + shard + " to " + peer + " failed: "
            + e.getMessage(), false, e);
      }
    }

    /**
     * Takes the files of a commit of the server's shard into this node's empty copy; true when
     * attached, false when either side refused (the session goes on with records).
     */
    private boolean pullBulk() {
      try {
        BulkSender.Outcome o = new BulkPuller(conversation, store, group, shard)
            .pull(incarnation, KeyRouting.of(group, shard, shardNum));
        if (o.refusal() != null) {
          LOG.info("no bulk transfer of {}/{} from {}: {}; repairing with records", group, shard, peer, o.refusal());
          return false;
        }
        bulk = o.figures();
        repairedToClient += bulk.documents();
        observer.bulkTransferred(group, shard, "received", bulk.files(), bulk.bytes());
        LOG.info("bulk transfer of {}/{} from {}: {} file(s), {} bytes, {} document(s) attached", group, shard, peer,
            bulk.files(), bulk.bytes(), bulk.documents());
        return true;
      } catch (IOException e) {
        throw new SyncFailedException("bulk transfer of " + group + "/" + shard + " from " + peer + " failed: "
            + e.getMessage(), false, e);
      }
    }

    /** Protocol 2's slot table as slot hashes of 8 bytes (the first 8 of each). */
    private List<SlotHash> compactTable(RootCompare rc) {
      byte[] d = rc.getSlotDigests().toByteArray();
      int n = rc.getSlotLeafCountsCount();
      if (d.length != 8L * n) {
        throw new SyncFailedException("peer " + peer + " sent " + d.length + " bytes of slot digests for " + n
            + " slots", false, null);
      }
      List<SlotHash> out = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        out.add(SlotHash.newBuilder().setIndex(i).setLeafCount(rc.getSlotLeafCounts(i))
            .setHash(ByteString.copyFrom(d, i * 8, 8)).build());
      }
      return out;
    }

    private void compareSlots(List<SlotHash> theirs) {
      List<int[]> descend = new ArrayList<>();
      for (SlotHash ss : theirs) {
        SlotSummary cs = tree.summary().slots().get((int) ss.getIndex());
        byte[] h = ss.getHash().toByteArray();
        if (cs.leafCount() == ss.getLeafCount() && Arrays.equals(cs.hash(), 0, h.length, h, 0, h.length)) {
          continue;
        }
        slotsDiffering++;
        int slot = cs.index();
        if (ss.getLeafCount() == 0) {
          pushAll(slot);
        } else if (cs.leafCount() == 0) {
          pullAll(slot, 1, null);
        } else if (protocol >= SessionProtocols.DESCENT) {
          descend.add(new int[] {slot, cs.leafCount(), ss.getLeafCount()});
        } else {
          compareSlot(slot, Math.max(cs.leafCount(), ss.getLeafCount()));
        }
      }
      if (!descend.isEmpty()) {
        descend(descend);
      }
    }

    /**
     * Protocol 2: descends into the differing slots in groups of at most
     * {@link #DESCENT_GROUP_LEAVES} leaves (the memory each side holds for them); a group's
     * fetches are answered before the next group starts, which ends its listing on the server.
     */
    private void descend(List<int[]> differing) {
      DescentClient walk = new DescentClient(tree, new DescentClient.Sink() {
        @Override
        public void push(byte[] entityUtf8) {
          Session.this.queuePush(entityUtf8, null);
        }

        @Override
        public void contest(byte[] entityUtf8, long serverRevision, int number) {
          Session.this.queuePush(entityUtf8, new long[] {serverRevision, number});
        }

        @Override
        public void fetchListed(int number) {
          fetchListed.add(number);
          if (fetchListed.size() >= FETCH_BATCH) {
            flush();
          }
        }

        @Override
        public dev.arbor.api.repair.v1.DescendReply call(dev.arbor.api.repair.v1.DescendRequest request) {
          awaitExchange();
          return conversation.call(SessionRequest.newBuilder().setDescend(request).build()).getDescend();
        }
      });
      int i = 0;
      while (i < differing.size()) {
        List<int[]> group = new ArrayList<>();
        long leaves = 0;
        while (i < differing.size() && (group.isEmpty()
            || leaves + Math.max(differing.get(i)[1], differing.get(i)[2]) <= DESCENT_GROUP_LEAVES)) {
          leaves += Math.max(differing.get(i)[1], differing.get(i)[2]);
          group.add(differing.get(i++));
        }
        try {
          walk.run(group);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        flush();
        awaitExchange();
      }
      leavesCompared += walk.leavesCompared();
    }

    private void compareSlot(int slot, long larger) {
      if (larger <= LeafBuckets.DIRECT_COMPARE_MAX) {
        merge(slot, 1, null);
        return;
      }
      int n = LeafBuckets.bucketCountFor(larger);
      awaitExchange();
      byte[] theirs = conversation.call(SessionRequest.newBuilder()
          .setBuckets(BucketRequest.newBuilder().setSlot(slot).setBucketCount(n)).build())
          .getBuckets().getDigests().toByteArray();
      byte[] mine;
      try (var it = tree.leaves(slot)) {
        mine = LeafBuckets.digests(it, n);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      if (theirs.length != mine.length) {
        throw new SyncFailedException("peer " + peer + " sent " + theirs.length + " bytes of bucket digests, expected "
            + mine.length, false, null);
      }
      BitSet differing = new BitSet(n);
      BitSet onlyTheirs = new BitSet(n);
      int w = LeafBuckets.DIGEST_BYTES;
      for (int b = 0; b < n; b++) {
        if (!Arrays.equals(mine, b * w, b * w + w, theirs, b * w, b * w + w)) {
          differing.set(b);
          if (isZero(mine, b * w, w)) {
            onlyTheirs.set(b);
          }
        }
      }
      if (differing.isEmpty()) {
        return;
      }
      // Buckets this node lacks entirely come as records at once; the rest are merged leaf by leaf.
      BitSet merged = (BitSet) differing.clone();
      merged.andNot(onlyTheirs);
      if (!onlyTheirs.isEmpty()) {
        pullAll(slot, n, onlyTheirs);
      }
      if (!merged.isEmpty()) {
        merge(slot, n, merged.cardinality() == n ? null : merged);
      }
    }

    /** The server holds nothing in the slot: push every leaf of ours. */
    private void pushAll(int slot) {
      try (SlotLeaves mine = new SlotLeaves(tree, slot, 1, null)) {
        while (mine.hasNext()) {
          push(mine.next());
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** This node holds nothing in the slot (or buckets): take the server's records page by page. */
    private void pullAll(int slot, int bucketCount, BitSet buckets) {
      awaitExchange();
      // One page in flight while the previous one is stored: the server reads while we write.
      conversation.send(pageRequest(slot, bucketCount, buckets, new byte[0], true));
      while (true) {
        LeafPage page = conversation.receive().getLeaves();
        boolean more = page.getMore() && !page.getLastEntity().isEmpty();
        if (more) {
          conversation.send(pageRequest(slot, bucketCount, buckets, page.getLastEntity().toByteArray(), true));
        }
        apply(page.getRecordsList());
        if (!more) {
          return;
        }
      }
    }

    private SessionRequest pageRequest(int slot, int bucketCount, BitSet buckets, byte[] after, boolean records) {
      LeafRequest.Builder r = LeafRequest.newBuilder().setSlot(slot).setBucketCount(bucketCount)
          .setAfter(ByteString.copyFrom(after)).setMaxItems(LEAF_PAGE).setRecords(records);
      if (buckets != null) {
        buckets.stream().forEach(r::addBuckets);
      }
      return SessionRequest.newBuilder().setLeaves(r).build();
    }

    private LeafPage page(int slot, int bucketCount, BitSet buckets, byte[] after, boolean records) {
      awaitExchange();
      return conversation.call(pageRequest(slot, bucketCount, buckets, after, records)).getLeaves();
    }

    /** Merge-join of the server's leaves with ours, both in entity order. */
    private void merge(int slot, int bucketCount, BitSet buckets) {
      try (SlotLeaves mine = new SlotLeaves(tree, slot, bucketCount, buckets)) {
        byte[] after = new byte[0];
        boolean more = true;
        while (more) {
          LeafPage page = page(slot, bucketCount, buckets, after, false);
          for (Leaf s : page.getLeavesList()) {
            leavesCompared++;
            byte[] e = s.getEntity().toByteArray();
            while (mine.hasNext() && Arrays.compareUnsigned(mine.peek().entityUtf8(), e) < 0) {
              push(mine.next());
            }
            if (mine.hasNext() && Arrays.equals(mine.peek().entityUtf8(), e)) {
              TreeLeaf c = mine.next();
              if (!Arrays.equals(c.sha(), 0, 16, s.getShaPrefix().toByteArray(), 0, s.getShaPrefix().size())) {
                push(c);
              }
            } else {
              fetch(new String(e, java.nio.charset.StandardCharsets.UTF_8));
            }
            after = e;
          }
          more = page.getMore() && page.getLeavesCount() > 0;
        }
        while (mine.hasNext()) {
          push(mine.next());
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private void push(TreeLeaf leaf) {
      queuePush(leaf.entityUtf8(), null);
    }

    /**
     * Queues a leaf's record for pushing; with a {@code rival} (the server's revision of it and
     * its listed number), the server's copy is fetched instead when it is newer, so the losing
     * copy does not travel (nor does the winner twice, as the server's answer to a lost push).
     */
    private void queuePush(byte[] entityUtf8, long[] rival) {
      pushKeys.add(EntityKey.parse(new String(entityUtf8, java.nio.charset.StandardCharsets.UTF_8)));
      pushRivals.add(rival);
      if (pushKeys.size() >= PUSH_LOOKUP_CHUNK) {
        loadPushes();
        if (pushBytes >= PUSH_BATCH_BYTES) {
          flush();
        }
      }
    }

    /**
     * Reads the records of the leaves queued for pushing, in one pass over the index, sending a
     * batch whenever it reaches {@link #PUSH_BATCH_BYTES} (large properties never make one
     * message too big).
     */
    private void loadPushes() {
      if (pushKeys.isEmpty()) {
        return;
      }
      List<EntityKey> keys = new ArrayList<>(pushKeys);
      List<long[]> rivals = new ArrayList<>(pushRivals);
      pushKeys.clear();
      pushRivals.clear();
      PropertyRecord[] found = store.latestAll(group, shard, keys);
      for (int i = 0; i < found.length; i++) {
        PropertyRecord r = found[i];
        long[] rival = rivals.get(i);
        if (rival != null && (r == null || r.modRevision() < rival[0])) {
          // The server's copy wins on revision alone: take it rather than send ours to lose.
          fetchListed.add((int) rival[1]);
          continue;
        }
        if (r != null) { // null: purged since the tree was built
          StoredProperty p = RecordCodec.toProto(group, shard, r);
          push.add(p);
          pushBytes += p.getSerializedSize();
          recordBytes += p.getSerializedSize();
          if (pushBytes >= PUSH_BATCH_BYTES) {
            sendExchange();
          }
        }
      }
    }

    private void fetch(String entity) {
      fetch.add(entity);
      if (fetch.size() >= FETCH_BATCH) {
        flush();
      }
    }

    /**
     * Sends everything queued. Replies are taken before the next request that needs an answer,
     * so the server stores one batch while this side reads the next.
     */
    private void flush() {
      loadPushes();
      sendExchange();
    }

    /** Sends the records and fetches queued so far as one exchange. */
    private void sendExchange() {
      if (push.isEmpty() && fetch.isEmpty() && fetchListed.isEmpty()) {
        return;
      }
      awaitExchange();
      PropertyExchange x = PropertyExchange.newBuilder().addAllPush(push).addAllFetch(fetch)
          .addAllFetchListed(fetchListed).build();
      push.clear();
      fetch.clear();
      fetchListed.clear();
      pushBytes = 0;
      conversation.send(SessionRequest.newBuilder().setExchange(x).build());
      exchangeInFlight = true;
    }

    private void awaitExchange() {
      if (!exchangeInFlight) {
        return;
      }
      exchangeInFlight = false;
      PropertyExchangeReply reply = conversation.receive().getExchange();
      repairedToServer += reply.getStored();
      if (reply.getRejected() > 0) {
        pushRejected.addAll(reply.getRejected(), reply.getRejectedReasonsList());
      }
      List<StoredProperty> incoming = new ArrayList<>(reply.getFetchedCount() + reply.getNewerCount());
      incoming.addAll(reply.getFetchedList());
      incoming.addAll(reply.getNewerList());
      apply(incoming);
      // Copies that did not fit in the reply are fetched again with the next batch.
      fetch.addAll(reply.getDeferredList());
    }

    private void apply(List<StoredProperty> records) {
      for (StoredProperty p : records) {
        recordBytes += p.getSerializedSize();
      }
      List<ShardWrite> writes = new ArrayList<>(records.size());
      long rejected = 0;
      for (StoredProperty p : records) {
        try {
          writes.add(RecordCodec.check(p, group, shard, shardNum, shardCheck.revisionBound(), shardCheck.defects()));
        } catch (RecordCodec.RejectedRecordException e) {
          rejected++;
          pullRejected.add(e.getMessage());
        }
      }
      if (rejected > 0) {
        observer.recordsRejected(group, shard, rejected);
      }
      if (!writes.isEmpty()) {
        java.util.Map<String, GroupIncarnation> claimed =
            incarnation.map(i -> java.util.Map.of(group, i)).orElse(java.util.Map.of());
        for (ApplyOutcome o : store.applyEach(writes, claimed)) {
          if (o == ApplyOutcome.STORED) {
            repairedToClient++;
          } else if (o == ApplyOutcome.WRONG_INCARNATION) {
            pullRejected.add("group " + group + " changed incarnation on this node during the session");
          }
        }
      }
    }
  }

  private static boolean isZero(byte[] a, int off, int len) {
    for (int i = off; i < off + len; i++) {
      if (a[i] != 0) {
        return false;
      }
    }
    return true;
  }
}
