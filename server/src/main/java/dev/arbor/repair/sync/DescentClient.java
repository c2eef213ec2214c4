package dev.arbor.repair.sync;

import com.google.protobuf.ByteString;
import dev.arbor.api.repair.v1.DescendReply;
import dev.arbor.api.repair.v1.DescendRequest;
import dev.arbor.api.repair.v1.SlotStart;
import dev.arbor.repair.tree.ServedTree;
import dev.arbor.repair.tree.TreeLeaf;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The client's side of protocol 2's descent over a group of differing slots: opens the slots,
 * then, level by level, compares the server's sums of each split node's two halves with its own
 * and opens only the halves that differ; a half the server lacks is pushed whole, one this node
 * lacks is listed at once. Nodes about one leaf deep are listed: leaves the two hold alike are
 * skipped, this node's other leaves pushed, the server's fetched by number. So a session's bytes
 * grow with the differences (about 8 bytes per level per difference, and log2 of the slot's
 * leaves levels), not with the shard.
 */
final class DescentClient {
  /** What the session does with what the descent finds. */
  interface Sink {
    /** Queues this node's copy of a leaf (its UTF-8 entity) for pushing. */
    void push(byte[] entityUtf8);

    /**
     * This node's copy of a leaf the server listed in another version, whose copy is of mod
     * revision {@code serverRevision} (protocol 3): fetch listed leaf {@code number} if this
     * node's copy is older, else push it.
     */
    void contest(byte[] entityUtf8, long serverRevision, int number);

    /** Queues the server's listed leaf {@code number} for fetching. */
    void fetchListed(int number);

    /** Sends a request once the exchange in flight is answered, and waits for the reply. */
    DescendReply call(DescendRequest request);
  }

  private final ServedTree tree;
  private final Sink sink;
  private final Map<Integer, DescentIndex> slots = new HashMap<>();
  private final Map<Integer, Integer> listDepth = new HashMap<>();
  private long leavesCompared;

  /** A node opened by the last request; {@code serverSum} is unknown (0) for slot roots. */
  private record Node(int slot, int depth, long prefix, long serverSum, boolean forcedList) {
    Node child(int side, long sum, boolean list) {
      return new Node(slot, depth + 1, prefix << 1 | side, sum, list);
    }
  }

  /** Leaves of one group whose entities are kept (the rest are read again when pushed). */
  private final long keptEntities;

  DescentClient(ServedTree tree, Sink sink) {
    this(tree, sink, DescentIndex.KEPT_ENTITIES);
  }

  DescentClient(ServedTree tree, Sink sink, long keptEntities) {
    this.tree = tree;
    this.sink = sink;
    this.keptEntities = keptEntities;
  }

  long leavesCompared() {
    return leavesCompared;
  }

  /**
   * Descends into {@code group}'s slots, each {slot, this node's leaf count, the server's}; both
   * sides hold leaves in every one.
   */
  void run(List<int[]> group) throws IOException {
    slots.clear();
    listDepth.clear();
    DescendRequest.Builder req = DescendRequest.newBuilder();
    List<Node> opened = new ArrayList<>();
    long keep = keptEntities;
    for (int[] s : group) {
      keep -= s[1];
      slots.put(s[0], DescentIndex.of(tree, s[0], s[1], keep >= 0));
      int depth = DescentIndex.listDepth(Math.max(s[1], s[2]));
      listDepth.put(s[0], depth);
      req.addStart(SlotStart.newBuilder().setSlot(s[0]).setListDepth(depth));
      opened.add(new Node(s[0], 0, 0, 0, false));
    }
    int listedBase = 0;
    while (!opened.isEmpty()) {
      DescendReply reply = sink.call(req.build());
      ByteBuffer sums = reply.getSums().asReadOnlyByteBuffer();
      ByteBuffer listed = reply.getListed().asReadOnlyByteBuffer();
      ByteBuffer revisions = reply.getListedRevisions().isEmpty() ? null
          : reply.getListedRevisions().asReadOnlyByteBuffer();
      if (revisions != null && revisions.remaining() * 2L != listed.remaining()) {
        throw new IllegalStateException("the server's descend reply holds " + revisions.remaining()
            + " bytes of revisions for " + listed.remaining() / 16 + " listed leaves");
      }
      int listedNode = 0;
      int number = listedBase;
      Map<Integer, TreeSet<Integer>> pushes = new HashMap<>();
      Map<Integer, Map<Integer, long[]>> contested = new HashMap<>();
      List<Node> next = new ArrayList<>();
      byte[] open = new byte[(4 * opened.size() + 7) / 8];
      byte[] list = new byte[open.length];
      int child = 0;
      for (Node n : opened) {
        DescentIndex ix = slots.get(n.slot());
        if (n.forcedList() || n.depth() >= listDepth.get(n.slot())) {
          if (listedNode >= reply.getListedCountsCount()) {
            throw new IllegalStateException("the server listed fewer nodes than were opened");
          }
          int count = reply.getListedCounts(listedNode++);
          number = compareListed(ix, n, listed, revisions, count, number, pushes, contested);
          continue;
        }
        long parent = n.depth() == 0 ? sums.getLong() : n.serverSum();
        long left = sums.getLong();
        for (int side = 0; side < 2; side++, child++) {
          long theirs = side == 0 ? left : parent - left;
          Node c = n.child(side, theirs, false);
          int from = ix.from(c.depth(), c.prefix());
          int to = ix.to(c.depth(), c.prefix());
          long mine = ix.sum(from, to);
          if (mine == theirs) {
            continue;
          }
          if (theirs == 0 && to > from) {
            // The server holds nothing here: push this node's leaves of the half.
            for (int r = from; r < to; r++) {
              pushes.computeIfAbsent(n.slot(), x -> new TreeSet<>()).add(ix.ordinalAt(r));
            }
          } else if (to == from) {
            set(list, child);
            next.add(n.child(side, theirs, true));
          } else {
            set(open, child);
            next.add(c);
          }
        }
      }
      if (sums.hasRemaining() || listed.hasRemaining() || listedNode != reply.getListedCountsCount()
          || revisions != null && revisions.hasRemaining()) {
        throw new IllegalStateException("the server's descend reply does not match the nodes opened");
      }
      listedBase = number;
      for (var e : pushes.entrySet()) {
        pushOrdinals(e.getKey(), e.getValue(), contested.getOrDefault(e.getKey(), Map.of()));
      }
      opened = next;
      req = DescendRequest.newBuilder().setOpen(ByteString.copyFrom(open, 0, (child + 7) / 8))
          .setList(ByteString.copyFrom(list, 0, (child + 7) / 8));
    }
  }

  /**
   * Compares a listed node's {@code count} server leaves (entity hash, leaf hash) with this
   * node's leaves of it: the same leaf is skipped; the same entity in another version is pushed
   * (the server keeps the last-write-wins winner and answers with its own copy when that one
   * wins) — or, when the reply carries the server's revisions (protocol 3), fetched instead where
   * the server's is newer; this node's other leaves are pushed and the server's other leaves
   * fetched.
   *
   * @return the number of the next listed leaf
   */
  private int compareListed(DescentIndex ix, Node n, ByteBuffer listed, ByteBuffer revisions, int count, int number,
      Map<Integer, TreeSet<Integer>> pushes, Map<Integer, Map<Integer, long[]>> contested) {
    int from = ix.from(n.depth(), n.prefix());
    int to = ix.to(n.depth(), n.prefix());
    Map<Long, Integer> mine = new HashMap<>();
    Set<Long> clashing = new HashSet<>();
    for (int r = from; r < to; r++) {
      if (mine.put(ix.entityHashAt(r), r) != null) {
        clashing.add(ix.entityHashAt(r));
      }
    }
    TreeSet<Integer> push = pushes.computeIfAbsent(n.slot(), x -> new TreeSet<>());
    for (int i = 0; i < count; i++, number++) {
      long entity = listed.getLong();
      long leaf = listed.getLong();
      long revision = revisions == null ? 0 : revisions.getLong();
      leavesCompared++;
      Integer r = clashing.contains(entity) ? null : mine.remove(entity);
      if (r == null) {
        sink.fetchListed(number);
      } else if (ix.leafHashAt(r) != leaf) {
        push.add(ix.ordinalAt(r));
        if (revisions != null) {
          contested.computeIfAbsent(n.slot(), x -> new HashMap<>()).put(ix.ordinalAt(r), new long[] {number, revision});
        }
      }
    }
    // Left: leaves the server lacks, and both sides of an entity-hash clash (never guessed).
    for (int r = from; r < to; r++) {
      long entity = ix.entityHashAt(r);
      if (clashing.contains(entity) || mine.get(entity) != null && mine.get(entity) == r) {
        push.add(ix.ordinalAt(r));
      }
    }
    return number;
  }

  /**
   * Pushes this node's leaves of a slot by ordinal, in one pass over the slot's leaves; a
   * {@code contested} one (ordinal → listed number, server's revision) is left to {@link Sink#contest}.
   */
  private void pushOrdinals(int slot, TreeSet<Integer> ordinals, Map<Integer, long[]> contested) throws IOException {
    if (ordinals.isEmpty()) {
      return;
    }
    DescentIndex ix = slots.get(slot);
    if (ix.keepsEntities()) {
      for (int wanted : ordinals) {
        long[] rival = contested.get(wanted);
        if (rival == null) {
          sink.push(ix.entity(wanted));
        } else {
          sink.contest(ix.entity(wanted), rival[1], (int) rival[0]);
        }
      }
      return;
    }
    try (ServedTree.SlotCursor it = tree.leaves(slot)) {
      int ordinal = 0;
      for (int wanted : ordinals) {
        TreeLeaf l = null;
        while (ordinal <= wanted && it.hasNext()) {
          l = it.next();
          ordinal++;
        }
        if (ordinal != wanted + 1 || l == null) {
          throw new IllegalStateException("slot " + slot + " of the session's tree changed while it was read");
        }
        long[] rival = contested.get(wanted);
        if (rival == null) {
          sink.push(l.entityUtf8());
        } else {
          sink.contest(l.entityUtf8(), rival[1], (int) rival[0]);
        }
      }
    }
  }

  private static void set(byte[] bits, int i) {
    bits[i >>> 3] |= (byte) (1 << (i & 7));
  }
}
