package dev.arbor.storage;

import dev.arbor.runtime.Ticker;
import dev.arbor.errors.UnavailableException;
import dev.arbor.property.PropertyRecord;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.index.IndexCommit;
import org.apache.lucene.index.LeafReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.PostingsEnum;
import org.apache.lucene.index.Terms;
import org.apache.lucene.index.TermsEnum;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.util.Bits;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.KeepOnlyLastCommitDeletionPolicy;
import org.apache.lucene.index.SnapshotDeletionPolicy;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.FSDirectory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Lucene index of one (group, shard) on this node: one document per property key, sorted by
 * key on disk (so tree builds scan in key order). Durability comes from the write-ahead log; the
 * index is committed at checkpoints. Point lookups see every applied write at once (a small map of
 * writes not yet visible to the searcher); searches refresh first when something changed.
 *
 * <p>After a fatal index error (Lucene's tragic event: a failed flush on a full disk, a corrupt
 * segment) the shard is out of service: every read and write of it fails with
 * {@link UnavailableException}, because its searcher and pending writes may no longer match what
 * was acknowledged. Only a restart brings it back, recovering it from the write-ahead log.
 */
public final class ShardIndex implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(ShardIndex.class);
  /** Index sort: entity key ascending. */
  public static final Sort KEY_ORDER = new Sort(new SortField(DocumentCodec.KEY, SortField.Type.STRING));

  private final String group;
  private final int shard;
  private final Path dir;
  private final org.apache.lucene.store.Directory directory;
  private final IndexWriter writer;
  private final SnapshotDeletionPolicy snapshots;
  private final SearcherManager searchers;
  private final ConcurrentHashMap<String, Pending> unrefreshed = new ConcurrentHashMap<>();
  private final AtomicLong applied = new AtomicLong();
  private volatile long refreshedUpTo;
  /** Source bytes held by {@link #unrefreshed}: what a refresh would free. */
  private final AtomicLong pendingBytes = new AtomicLong();
  private final Ticker ticker;
  private volatile long lastRefreshNanos;
  private final java.util.concurrent.atomic.AtomicBoolean failureLogged = new java.util.concurrent.atomic.AtomicBoolean();
  /** Keys written while a bulk transfer into this shard runs (null when none runs). */
  private final java.util.concurrent.atomic.AtomicReference<java.util.Set<String>> intakeKeys =
      new java.util.concurrent.atomic.AtomicReference<>();

  private record Pending(PropertyRecord record, long seq) {}

  ShardIndex(String group, int shard, Path dir) throws IOException {
    this(group, shard, dir, Ticker.system());
  }

  /** @param ticker the node runtime's: how long writes have waited to become searchable */
  ShardIndex(String group, int shard, Path dir, Ticker ticker) throws IOException {
    this(group, shard, dir, ticker, IndexTuning.DEFAULT);
  }

  /** @param tuning the writer's merge wait and buffer */
  ShardIndex(String group, int shard, Path dir, Ticker ticker, IndexTuning tuning) throws IOException {
    this.ticker = ticker;
    this.lastRefreshNanos = ticker.read();
    this.group = group;
    this.shard = shard;
    this.dir = dir;
    // Linking: bulk transfers attach their staged files without copying them (see LinkingDirectory).
    this.directory = new dev.arbor.storage.lucene.LinkingDirectory(FSDirectory.open(dir));
    try {
      boolean fresh = IndexLayout.prepare(directory, group + "/shard-" + shard);
      this.snapshots = new SnapshotDeletionPolicy(new KeepOnlyLastCommitDeletionPolicy());
      IndexWriterConfig cfg = IndexLayout.writerConfig();
      cfg.setIndexDeletionPolicy(snapshots);
      tuning.applyTo(cfg);
      this.writer = new IndexWriter(directory, cfg);
      if (fresh) {
        // Only a new index: stamping an existing one would count as a change and make its
        // trees look stale after every restart.
        IndexLayout.stamp(writer);
      }
      this.searchers = new SearcherManager(writer, null);
    } catch (IOException | RuntimeException e) {
      directory.close();
      throw e;
    }
  }

  public String group() {
    return group;
  }

  public int shard() {
    return shard;
  }

  public Path directory() {
    return dir;
  }

  /** The latest stored state of an entity, tombstones included; null when never written. */
  public PropertyRecord latest(String entity) throws IOException {
    ensureServing();
    Pending p = unrefreshed.get(entity);
    if (p != null) {
      return p.record();
    }
    IndexSearcher s = searchers.acquire();
    try {
      // A direct term seek per segment: far cheaper than a scored search for one key. Newest
      // segment first; one document per key is live.
      BytesRef term = new BytesRef(entity);
      List<LeafReaderContext> leaves = s.getIndexReader().leaves();
      for (int i = leaves.size() - 1; i >= 0; i--) {
        List<PropertyRecord> found = liveRecords(leaves.get(i).reader(), term);
        if (!found.isEmpty()) {
          return found.get(0);
        }
      }
      return null;
    } finally {
      searchers.release(s);
    }
  }

  /**
   * The latest stored state of many entities at once ({@code null} where never written), in the
   * order given. One searcher, and per segment one terms enum and one stored-fields reader for
   * all lookups: callers passing entities in key order read each stored block once instead of
   * once per entity.
   */
  public PropertyRecord[] latestAll(List<String> entities) throws IOException {
    ensureServing();
    PropertyRecord[] out = new PropertyRecord[entities.size()];
    int missing = 0;
    for (int i = 0; i < out.length; i++) {
      Pending p = unrefreshed.get(entities.get(i));
      if (p != null) {
        out[i] = p.record();
      } else {
        missing++;
      }
    }
    if (missing == 0) {
      return out;
    }
    IndexSearcher s = searchers.acquire();
    try {
      boolean[] done = new boolean[out.length];
      for (int i = 0; i < out.length; i++) {
        done[i] = out[i] != null;
      }
      List<LeafReaderContext> leaves = s.getIndexReader().leaves();
      PostingsEnum pe = null;
      for (int l = leaves.size() - 1; l >= 0 && missing > 0; l--) {
        LeafReader leaf = leaves.get(l).reader();
        Terms terms = leaf.terms(DocumentCodec.KEY);
        if (terms == null) {
          continue;
        }
        TermsEnum te = terms.iterator();
        org.apache.lucene.index.StoredFields stored = null;
        Bits live = leaf.getLiveDocs();
        for (int i = 0; i < out.length; i++) {
          if (done[i] || !te.seekExact(new BytesRef(entities.get(i)))) {
            continue;
          }
          pe = te.postings(pe, PostingsEnum.NONE);
          for (int d = pe.nextDoc(); d != DocIdSetIterator.NO_MORE_DOCS; d = pe.nextDoc()) {
            if (live == null || live.get(d)) {
              if (stored == null) {
                stored = leaf.storedFields();
              }
              out[i] = DocumentCodec.fromStored(stored, d);
              done[i] = true;
              missing--;
              break;
            }
          }
        }
      }
      return out;
    } finally {
      searchers.release(s);
    }
  }

  /** Replaces the entity's document. Callers serialize writes to one entity. */
  void put(PropertyRecord r) throws IOException {
    put(r, DocumentCodec.toDocument(r), false);
  }

  /**
   * Stores {@code doc} as the entity's document.
   *
   * @param absent the caller saw no record of the entity under its lock ({@link #latest} null):
   *     the document is added without deleting by key first
   */
  void put(PropertyRecord r, org.apache.lucene.document.Document doc, boolean absent) throws IOException {
    ensureServing();
    String entity = r.key().entity();
    if (absent) {
      writer.addDocument(doc);
    } else {
      writer.updateDocument(new Term(DocumentCodec.KEY, entity), doc);
    }
    applied(r);
  }

  /**
   * Stores a batch of documents with one index-writer call per kind of write instead of one per
   * document: keys that had no record ({@code absent}) are added together, the others replace
   * their keys' documents in one {@code updateDocuments} whose delete matches all their keys (one
   * buffered delete instead of one per key). Keys must be distinct: two documents of one key in a
   * batch would both survive the shared delete, so such a batch is stored one document at a time.
   * Callers hold the keys' locks.
   *
   * <p>The documents of one call form a Lucene block (kept in one in-memory segment, added or
   * dropped together on a non-fatal error); nothing reads them as a block, the index sort orders
   * them by key like any others.
   */
  void putAll(List<PropertyRecord> records, List<org.apache.lucene.document.Document> docs, List<Boolean> absent)
      throws IOException {
    ensureServing();
    if (records.size() == 1) {
      put(records.get(0), docs.get(0), absent.get(0));
      return;
    }
    java.util.Set<String> keys = new java.util.HashSet<>(records.size() * 2);
    for (PropertyRecord r : records) {
      if (!keys.add(r.key().entity())) {
        for (int i = 0; i < records.size(); i++) {
          put(records.get(i), docs.get(i), absent.get(i));
        }
        return;
      }
    }
    List<org.apache.lucene.document.Document> added = new ArrayList<>(docs.size());
    List<org.apache.lucene.document.Document> replacing = new ArrayList<>();
    List<BytesRef> replacedKeys = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      if (absent.get(i)) {
        added.add(docs.get(i));
      } else {
        replacing.add(docs.get(i));
        replacedKeys.add(new BytesRef(records.get(i).key().entity()));
      }
    }
    if (!added.isEmpty()) {
      writer.addDocuments(added);
    }
    if (replacedKeys.size() == 1) {
      writer.updateDocuments(new Term(DocumentCodec.KEY, replacedKeys.get(0)), replacing);
    } else if (!replacedKeys.isEmpty()) {
      // Deletes every older document of these keys, not the ones this call adds (Lucene applies
      // a delete only to documents added before it).
      writer.updateDocuments(new org.apache.lucene.search.TermInSetQuery(DocumentCodec.KEY, replacedKeys), replacing);
    }
    for (PropertyRecord r : records) {
      applied(r);
    }
  }

  /** Bookkeeping of one stored record: intake tracking, change count, the not-yet-visible map. */
  private void applied(PropertyRecord r) {
    String entity = r.key().entity();
    java.util.Set<String> tracked = intakeKeys.get();
    if (tracked != null) {
      tracked.add(entity);
    }
    long seq = applied.incrementAndGet();
    Pending replaced = unrefreshed.put(entity, new Pending(r, seq));
    pendingBytes.addAndGet(r.source().length - (replaced == null ? 0 : replaced.record().source().length));
  }

  /**
   * Starts recording the keys written to this shard, for a bulk transfer into it; false when
   * another transfer already records (one at a time per shard).
   */
  boolean startIntake() {
    return intakeKeys.compareAndSet(null, ConcurrentHashMap.newKeySet());
  }

  /** The keys written since {@link #startIntake}. */
  java.util.Set<String> intakeKeys() {
    java.util.Set<String> k = intakeKeys.get();
    return k == null ? java.util.Set.of() : k;
  }

  void endIntake() {
    intakeKeys.set(null);
  }

  /**
   * Adds the committed index in {@code staged} (same codec and index sort; Lucene checks the
   * sort) to this one; its deleted documents stay deleted (Lucene carries each segment's live-docs
   * file). Callers resolve keys that now have two documents ({@link #resolveDuplicates}).
   */
  void addIndexes(org.apache.lucene.store.Directory staged) throws IOException {
    writer.addIndexes(staged);
    applied.incrementAndGet();
  }

  /** The live documents of {@code key} in one segment, as records (normally at most one). */
  private static List<PropertyRecord> liveRecords(LeafReader leaf, BytesRef key) throws IOException {
    Terms terms = leaf.terms(DocumentCodec.KEY);
    if (terms == null) {
      return List.of();
    }
    TermsEnum te = terms.iterator();
    if (!te.seekExact(key)) {
      return List.of();
    }
    List<PropertyRecord> out = new ArrayList<>(1);
    PostingsEnum pe = te.postings(null, PostingsEnum.NONE);
    Bits live = leaf.getLiveDocs();
    for (int d = pe.nextDoc(); d != DocIdSetIterator.NO_MORE_DOCS; d = pe.nextDoc()) {
      if (live == null || live.get(d)) {
        out.add(DocumentCodec.fromStored(leaf.storedFields(), d));
      }
    }
    return out;
  }

  /**
   * For each key of {@code keys} that holds more than one live document (written here while a
   * bulk transfer brought another version), keeps only the last-write-wins winner:
   * {@code updateDocument} deletes every document of the key and adds the winner. Callers hold the
   * keys' locks. Returns how many keys were resolved; the searcher is refreshed on return.
   */
  int resolveDuplicates(java.util.Collection<String> keys) throws IOException {
    refresh();
    List<PropertyRecord> winners = new ArrayList<>();
    IndexSearcher s = searchers.acquire();
    try {
      List<LeafReaderContext> leaves = s.getIndexReader().leaves();
      for (String key : keys) {
        BytesRef term = new BytesRef(key);
        PropertyRecord best = null;
        int found = 0;
        for (LeafReaderContext ctx : leaves) {
          for (PropertyRecord r : liveRecords(ctx.reader(), term)) {
            found++;
            if (best == null || dev.arbor.property.LastWriteWins.beats(r, best)) {
              best = r;
            }
          }
        }
        if (found > 1) {
          winners.add(best);
        }
      }
    } finally {
      searchers.release(s);
    }
    for (PropertyRecord w : winners) {
      put(w);
    }
    refresh();
    return winners.size();
  }

  /**
   * Commits, then holds that commit for a bulk transfer of its files; null when the index has no
   * commit. Close the returned files to release the commit.
   */
  ShardFiles bulkSnapshot() throws IOException {
    commit();
    IndexCommit c = snapshot();
    if (c == null) {
      return null;
    }
    try {
      return ShardFiles.of(this, c, directory);
    } catch (IOException | RuntimeException e) {
      releaseSnapshot(c);
      throw e;
    }
  }

  /**
   * A counter that grows with every change of the shard's documents (writes and purges) in this
   * process. Background merges and commits do not move it, so a tree built at a value is still
   * current while the value is unchanged.
   */
  public long changeCount() {
    return applied.get();
  }

  /** Makes every applied write visible to searches. */
  public void refresh() throws IOException {
    long upTo = applied.get();
    if (upTo == refreshedUpTo) {
      return;
    }
    try {
      searchers.maybeRefreshBlocking();
    } catch (IOException | RuntimeException e) {
      // A refresh flushes; the flush that hits a fatal error takes the shard out of service, and
      // the caller must hear that rather than an I/O error.
      ensureServing();
      throw e;
    }
    refreshedUpTo = upTo;
    lastRefreshNanos = ticker.read();
    forgetPending(p -> p.seq() <= upTo);
  }

  /** Bytes of applied writes not yet visible to searches (kept in memory for point lookups). */
  public long pendingBytes() {
    return pendingBytes.get();
  }

  /** Nanoseconds since the last refresh, when writes are pending; 0 when none is. */
  public long pendingAgeNanos() {
    return unrefreshed.isEmpty() ? 0 : ticker.read() - lastRefreshNanos;
  }

  private void forgetPending(java.util.function.Predicate<Pending> which) {
    for (var e : unrefreshed.entrySet()) {
      Pending p = e.getValue();
      if (which.test(p) && unrefreshed.remove(e.getKey(), p)) {
        pendingBytes.addAndGet(-p.record().source().length);
      }
    }
  }

  /** Runs a query (after a refresh), returning at most {@code limit} records in {@code sort} order. */
  public List<PropertyRecord> search(Query q, int limit, Sort sort) throws IOException {
    ensureServing();
    refresh();
    IndexSearcher s = searchers.acquire();
    try {
      TopDocs top;
      try {
        top = s.search(q, Math.max(1, limit), sort == null ? KEY_ORDER : sort);
      } catch (IndexSearcher.TooManyClauses e) {
        throw MultiShardSearcher.tooManyClauses(e);
      }
      StoredFields stored = s.storedFields();
      List<PropertyRecord> out = new ArrayList<>(top.scoreDocs.length);
      for (ScoreDoc sd : top.scoreDocs) {
        out.add(DocumentCodec.fromStored(stored, sd.doc));
      }
      return out;
    } finally {
      searchers.release(s);
    }
  }

  /** An acquired searcher over the latest refreshed state; release with {@link #release}. */
  public IndexSearcher acquireSearcher() throws IOException {
    ensureServing();
    refresh();
    return searchers.acquire();
  }

  public void release(IndexSearcher s) throws IOException {
    searchers.release(s);
  }

  /**
   * The error that closed this index's writer for good (disk full while flushing, a corrupt
   * segment), or null: such a shard serves nothing until the node restarts and recovers it from
   * the write-ahead log. Logged once, at ERROR, by whichever call notices it first.
   */
  public Throwable fatalError() {
    Throwable fatal = writer.getTragicException();
    if (fatal != null && failureLogged.compareAndSet(false, true)) {
      LOG.error("SHARD OUT OF SERVICE: {}/{} ({}): its index writer stopped after a fatal error; every read and write"
          + " of the shard is refused (UNAVAILABLE) and its write-ahead log segments are kept until the node"
          + " restarts, which recovers the shard from them. Other shards keep serving", group, shard, dir, fatal);
    }
    return fatal;
  }

  /** Whether the shard serves reads and writes (no fatal index error). */
  public boolean serving() {
    return fatalError() == null;
  }

  /**
   * Refuses every use of a shard out of service: its stale searcher and the writes it may have
   * lost must never answer as if current.
   *
   * @throws UnavailableException naming group and shard, and that a restart recovers it
   */
  public void ensureServing() {
    if (!serving()) {
      throw new UnavailableException("shard " + shard + " of group " + group + " is out of service on this node:"
          + " its index stopped after a fatal error (see the node's log and /health); restarting the node recovers"
          + " the shard from the write-ahead log");
    }
  }

  /** Deletes the tombstones deleted at or before {@code cutoffNanos}; returns how many there were. */
  long purgeTombstones(long cutoffNanos) throws IOException {
    return purgeTombstones(cutoffNanos, () -> {});
  }

  /** As above; {@code beforeDelete} runs when there is something to purge, before it is deleted. */
  long purgeTombstones(long cutoffNanos, Runnable beforeDelete) throws IOException {
    ensureServing();
    Query purgeable = NumericDocValuesField.newSlowRangeQuery(DocumentCodec.DEL, 1, cutoffNanos);
    refresh();
    long n;
    IndexSearcher s = searchers.acquire();
    try {
      n = s.count(purgeable);
    } finally {
      searchers.release(s);
    }
    if (n == 0) {
      return 0;
    }
    beforeDelete.run();
    writer.deleteDocuments(purgeable);
    // Counts as a change so the next refresh makes the purge visible; lookups must not keep
    // serving purged tombstones from the not-yet-refreshed map either.
    applied.incrementAndGet();
    forgetPending(p -> p.record().deleted() && p.record().deleteTime() <= cutoffNanos);
    return n;
  }

  /**
   * Holds the latest commit point so it outlives later commits, or returns null when the index
   * was never committed. Release with {@link #releaseSnapshot}.
   */
  public IndexCommit snapshot() throws IOException {
    ensureServing();
    try {
      return snapshots.snapshot();
    } catch (IllegalStateException noCommitYet) {
      return null;
    }
  }

  /**
   * A reader of {@code commit} (a {@link #snapshot}) that shares the near-real-time searcher's
   * segment readers for every segment the two have in common, instead of opening and mapping the
   * segment files a second time: a page of a file mapped twice counts twice in the process's
   * resident memory, and a tree build reads every segment's doc values. The searcher is refreshed
   * first so it holds every committed segment. Close the reader when done.
   */
  public org.apache.lucene.index.DirectoryReader openCommitReader(IndexCommit commit) throws IOException {
    ensureServing();
    refresh();
    IndexSearcher s = searchers.acquire();
    try {
      org.apache.lucene.index.DirectoryReader nrt = (org.apache.lucene.index.DirectoryReader) s.getIndexReader();
      org.apache.lucene.index.DirectoryReader r = org.apache.lucene.index.DirectoryReader.openIfChanged(nrt, commit);
      if (r == null) {
        // The searcher reads exactly that commit: share it.
        nrt.incRef();
        return nrt;
      }
      return r;
    } finally {
      searchers.release(s);
    }
  }

  /** Releases a snapshot and lets Lucene delete the files only it kept. */
  public void releaseSnapshot(IndexCommit commit) throws IOException {
    snapshots.release(commit);
    writer.deleteUnusedFiles();
  }

  /** Commits everything applied so far; the commit generation grows with every commit. */
  public void commit() throws IOException {
    ensureServing();
    if (writer.hasUncommittedChanges()) {
      writer.commit();
    }
  }

  /** Generation of the last commit (0 when never committed). */
  public long commitGeneration() throws IOException {
    return Math.max(0, org.apache.lucene.index.SegmentInfos.getLastCommitGeneration(directory));
  }

  public int numDocs() {
    return writer.getDocStats().numDocs;
  }

  @Override
  public void close() throws IOException {
    try {
      searchers.close();
    } finally {
      try {
        closeWriter(false);
      } finally {
        directory.close();
      }
    }
  }

  /** Closes or rolls back the writer; one its fatal error closed already needs neither. */
  private void closeWriter(boolean rollback) throws IOException {
    try {
      if (rollback) {
        writer.rollback();
      } else {
        writer.close();
      }
    } catch (org.apache.lucene.store.AlreadyClosedException e) {
      if (writer.getTragicException() == null) {
        throw e;
      }
    }
  }

  /** Closes without committing and deletes nothing; used when the group is dropped. */
  void rollback() throws IOException {
    try {
      searchers.close();
    } finally {
      try {
        closeWriter(true);
      } finally {
        directory.close();
      }
    }
  }
}
