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
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The server's side of protocol 2's descent: opens the slots a client starts, answers each
 * request with the sums of the nodes it opens and the leaves of the nodes it lists, and keeps the
 * entities of the listed leaves so the client can fetch them by number. Holds at most the slots
 * of one start (the client bounds their leaves).
 */
final class DescentServer {
  private final ServedTree tree;
  private final Map<Integer, DescentIndex> slots = new HashMap<>();
  private final Map<Integer, Integer> listDepth = new HashMap<>();
  /** Split nodes of the last reply, in order: their children are what the next request names. */
  private List<Node> frontier = List.of();
  /** Entities of the leaves listed since the last start, by number. */
  private final List<String> listed = new ArrayList<>();

  private record Node(int slot, int depth, long prefix) {
    Node child(int side) {
      return new Node(slot, depth + 1, prefix << 1 | side);
    }
  }

  /** Mod revisions of entities' current copies (0 for none); null: the listing carries none (protocol 2). */
  private final java.util.function.Function<List<String>, long[]> revisions;

  /** Leaves of one start whose entities are kept (the rest are read again when listed). */
  private final long keptEntities;

  DescentServer(ServedTree tree, java.util.function.Function<List<String>, long[]> revisions) {
    this(tree, revisions, DescentIndex.KEPT_ENTITIES);
  }

  DescentServer(ServedTree tree, java.util.function.Function<List<String>, long[]> revisions, long keptEntities) {
    this.tree = tree;
    this.revisions = revisions;
    this.keptEntities = keptEntities;
  }

  DescendReply answer(DescendRequest r, int slotCount) throws IOException {
    List<Node> opened = new ArrayList<>();
    List<Boolean> forcedList = new ArrayList<>();
    if (r.getStartCount() > 0) {
      slots.clear();
      listDepth.clear();
      listed.clear();
      long keep = keptEntities;
      for (SlotStart s : r.getStartList()) {
        int slot = s.getSlot();
        if (slot < 0 || slot >= slotCount) {
          throw new RepairSessionServer.SessionProtocolException("descend.start: slot "
              + Integer.toUnsignedString(slot) + " out of range 0.." + (slotCount - 1));
        }
        if (s.getListDepth() > 32) {
          throw new RepairSessionServer.SessionProtocolException("descend.start: list_depth must be 0..32, got "
              + Integer.toUnsignedString(s.getListDepth()));
        }
        if (slots.containsKey(slot)) {
          throw new RepairSessionServer.SessionProtocolException("descend.start: slot " + slot + " twice");
        }
        int count = (int) Math.min(Integer.MAX_VALUE - 8, tree.summary().slots().get(slot).leafCount());
        keep -= count;
        slots.put(slot, DescentIndex.of(tree, slot, count, keep >= 0));
        listDepth.put(slot, s.getListDepth());
        opened.add(new Node(slot, 0, 0));
        forcedList.add(false);
      }
      if (!r.getOpen().isEmpty() || !r.getList().isEmpty()) {
        throw new RepairSessionServer.SessionProtocolException("descend: start with open or list bits");
      }
    } else {
      byte[] open = r.getOpen().toByteArray();
      byte[] list = r.getList().toByteArray();
      long children = 2L * frontier.size();
      if ((long) open.length * 8 > children + 7 || (long) list.length * 8 > children + 7) {
        throw new RepairSessionServer.SessionProtocolException("descend: " + Math.max(open.length, list.length)
            + " bytes of bits for " + children + " children");
      }
      for (int i = 0; i < children; i++) {
        boolean l = bit(list, i);
        if (bit(open, i) || l) {
          Node parent = frontier.get(i / 2);
          if (parent.depth() >= 32) {
            throw new RepairSessionServer.SessionProtocolException("descend: a node of depth 32 has no children");
          }
          opened.add(parent.child(i % 2));
          forcedList.add(l);
        }
      }
    }
    ByteBuffer sums = ByteBuffer.allocate(16 * opened.size());
    DescendReply.Builder reply = DescendReply.newBuilder();
    List<Node> split = new ArrayList<>();
    // Listed leaves per slot: ordinal -> position in `listed`, resolved to entities in one pass.
    Map<Integer, TreeMap<Integer, Integer>> toResolve = new HashMap<>();
    ByteBuffer leaves;
    List<long[]> entries = new ArrayList<>();
    int firstListed = listed.size();
    for (int k = 0; k < opened.size(); k++) {
      Node n = opened.get(k);
      DescentIndex ix = slots.get(n.slot());
      int from = ix.from(n.depth(), n.prefix());
      int to = ix.to(n.depth(), n.prefix());
      if (forcedList.get(k) || n.depth() >= listDepth.get(n.slot())) {
        reply.addListedCounts(to - from);
        for (int rank = from; rank < to; rank++) {
          toResolve.computeIfAbsent(n.slot(), x -> new TreeMap<>()).put(ix.ordinalAt(rank), listed.size());
          listed.add(null);
          entries.add(new long[] {ix.entityHashAt(rank), ix.leafHashAt(rank)});
        }
      } else {
        if (n.depth() == 0) {
          sums.putLong(ix.sum(from, to));
        }
        Node left = n.child(0);
        sums.putLong(ix.sum(ix.from(left.depth(), left.prefix()), ix.to(left.depth(), left.prefix())));
        split.add(n);
      }
    }
    frontier = split;
    leaves = ByteBuffer.allocate(16 * entries.size());
    for (long[] e : entries) {
      leaves.putLong(e[0]).putLong(e[1]);
    }
    for (var e : toResolve.entrySet()) {
      resolve(e.getKey(), e.getValue());
    }
    if (revisions != null && !entries.isEmpty()) {
      long[] revs = revisions.apply(listed.subList(firstListed, listed.size()));
      ByteBuffer b = ByteBuffer.allocate(8 * revs.length);
      for (long v : revs) {
        b.putLong(v);
      }
      reply.setListedRevisions(ByteString.copyFrom(b.array()));
    }
    return reply.setSums(ByteString.copyFrom(sums.array(), 0, sums.position()))
        .setListed(ByteString.copyFrom(leaves.array())).build();
  }

  /** The entity of a listed leaf, by its number since the last start. */
  String listedEntity(int number) {
    if (number < 0 || number >= listed.size()) {
      throw new RepairSessionServer.SessionProtocolException("fetch_listed: " + Integer.toUnsignedString(number)
          + " not listed (" + listed.size() + " leaves listed since the last start)");
    }
    return listed.get(number);
  }

  /** Reads the entities of the wanted ordinals of a slot in one pass over its leaves (if not kept). */
  private void resolve(int slot, TreeMap<Integer, Integer> wanted) throws IOException {
    DescentIndex ix = slots.get(slot);
    if (ix.keepsEntities()) {
      for (var w : wanted.entrySet()) {
        listed.set(w.getValue(), new String(ix.entity(w.getKey()), java.nio.charset.StandardCharsets.UTF_8));
      }
      return;
    }
    try (ServedTree.SlotCursor it = tree.leaves(slot)) {
      int ordinal = 0;
      for (var w : wanted.entrySet()) {
        TreeLeaf l = null;
        while (ordinal <= w.getKey() && it.hasNext()) {
          l = it.next();
          ordinal++;
        }
        if (ordinal != w.getKey() + 1 || l == null) {
          throw new IllegalStateException("slot " + slot + " of the session's tree changed while it was read");
        }
        listed.set(w.getValue(), l.entity());
      }
    }
  }

  static boolean bit(byte[] bits, int i) {
    int b = i >>> 3;
    return b < bits.length && (bits[b] & (1 << (i & 7))) != 0;
  }
}
