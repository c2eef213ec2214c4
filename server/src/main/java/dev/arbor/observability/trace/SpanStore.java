package dev.arbor.observability.trace;

import com.google.protobuf.CodedInputStream;
import dev.arbor.api.repair.v1.Span;
import dev.arbor.errors.UnavailableException;
import dev.arbor.storage.StorageException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.arbor.runtime.NodeRuntime;
import dev.arbor.runtime.Ticker;
import dev.arbor.runtime.WallClock;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.Sort;
import org.apache.lucene.search.SortField;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.store.FSDirectory;
import org.apache.lucene.store.LockObtainFailedException;
import org.apache.lucene.util.BytesRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's repair spans in a Lucene index of their own ({@code <data-dir>/traces}), kept for
 * a retention. {@link #record} only appends to a bounded in-memory buffer (a full buffer drops
 * and counts the span: tracing must never slow down or fail repair); a daemon thread writes the
 * buffer and commits about every second, so a recorded span survives a crash after that.
 *
 * <p>One document per span: the whole span as a stored protobuf blob (one field to read back,
 * and new span fields need no index change), plus indexed trace id and group and the start time
 * as a point (range filters, purge) and doc values (sorting).
 */
public final class SpanStore implements SpanRecorder, SpanSource, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SpanStore.class);

  static final String TRACE_ID = "trace_id";
  static final String GROUP = "group";
  static final String START = "start";
  static final String SPAN = "span";

  private static final Sort START_ORDER = new Sort(new SortField(START, SortField.Type.LONG));
  private static final Duration WARN_EVERY = Duration.ofMinutes(1);
  private static final Duration CLOSE_WAIT = Duration.ofSeconds(30);

  private final Path dir;
  private final SpanStoreSettings settings;
  private final WallClock clock;
  private final Ticker ticker;
  private final BlockingQueue<RepairSpan> buffer;
  private final FSDirectory directory;
  private final IndexWriter writer;
  private final SearcherManager searchers;
  private final Thread flusher;
  /** Serializes draining the buffer, commits and purges, so a commit covers whole batches. */
  private final Object indexLock = new Object();

  private final AtomicLong recorded = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong stored = new AtomicLong();
  private final AtomicLong purged = new AtomicLong();
  private final Throttle dropWarning;
  private final Throttle failureWarning;
  private final AtomicBoolean closed = new AtomicBoolean();

  /** Guarded by {@link #indexLock}. */
  private boolean uncommitted;

  /** Opens (or creates) the store at {@code dir} with production settings and the system clock. */
  public SpanStore(Path dir, Duration retention) {
    this(dir, SpanStoreSettings.withRetention(retention), Clock.systemUTC());
  }

  /**
   * Opens (or creates) the store at {@code dir}, deletes spans older than the retention and starts
   * the flusher.
   *
   * @throws StorageException when the index cannot be opened; the message names the directory
   */
  public SpanStore(Path dir, SpanStoreSettings settings, Clock clock) {
    this(NodeRuntime.system(), dir, settings, () -> {
      Instant i = clock.instant();
      return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    });
  }

  /** As above, on the node's runtime: its wall clock dates spans' retention, its thread flushes. */
  public SpanStore(NodeRuntime runtime, Path dir, SpanStoreSettings settings) {
    this(runtime, dir, settings, runtime.wallClock());
  }

  private SpanStore(NodeRuntime runtime, Path dir, SpanStoreSettings settings, WallClock clock) {
    this.dir = dir;
    this.settings = settings;
    this.clock = clock;
    this.ticker = runtime.ticker();
    this.dropWarning = new Throttle(WARN_EVERY, ticker);
    this.failureWarning = new Throttle(WARN_EVERY, ticker);
    this.buffer = new ArrayBlockingQueue<>(settings.bufferCapacity());
    FSDirectory fs = null;
    IndexWriter w = null;
    try {
      Files.createDirectories(dir);
      fs = FSDirectory.open(dir);
      IndexWriterConfig cfg = new IndexWriterConfig();
      // Commits are explicit (flusher, purge, close); nothing is left to close() implicitly.
      cfg.setCommitOnClose(false);
      w = new IndexWriter(fs, cfg);
      this.searchers = new SearcherManager(w, null);
    } catch (LockObtainFailedException e) {
      closeQuietly(w, fs);
      throw new StorageException("trace store " + dir + " is already in use (locked by another process)", e);
    } catch (IOException | RuntimeException e) {
      closeQuietly(w, fs);
      throw new StorageException(
          "cannot open the trace store at " + dir + " (" + e.getMessage() + "); traces are "
              + "disposable: stop the node, delete the directory " + dir + " and start it again",
          e);
    }
    this.directory = fs;
    this.writer = w;
    try {
      purgeExpired();
      // A new store becomes a valid (empty) index on disk at once, like one that was reopened.
      flushAndCommit(true);
    } catch (RuntimeException e) {
      closeQuietly(searchers, writer, directory);
      throw e;
    }
    this.flusher = runtime.newThread("arbor-trace-flush", this::flushLoop);
    flusher.start();
  }

  /** Buffers the span for the flusher; drops (and counts) it when the buffer is full or closed. */
  @Override
  public void record(RepairSpan span) {
    if (span == null) {
      return;
    }
    recorded.incrementAndGet();
    if (closed.get()) {
      onDropped(1, "the trace store is closed");
      return;
    }
    if (!buffer.offer(span)) {
      onDropped(1, "the span buffer is full (" + settings.bufferCapacity() + " spans)");
      return;
    }
    if (buffer.size() >= settings.batchSize()) {
      LockSupport.unpark(flusher);
    }
  }

  /**
   * Spans matching the query, earliest first, buffered ones included. Spans older than the
   * retention are never returned, even before the next purge removes them.
   */
  @Override
  public List<RepairSpan> query(SpanQuery q) {
    if (closed.get()) {
      throw new UnavailableException("the trace store is closed (node shutting down)");
    }
    try {
      synchronized (indexLock) {
        drainToIndex();
      }
      searchers.maybeRefreshBlocking();
      IndexSearcher s = searchers.acquire();
      try {
        TopDocs top = s.search(filter(q), q.limit(), START_ORDER);
        StoredFields fields = s.storedFields();
        List<RepairSpan> out = new ArrayList<>(top.scoreDocs.length);
        for (ScoreDoc sd : top.scoreDocs) {
          BytesRef blob = fields.document(sd.doc, Set.of(SPAN)).getBinaryValue(SPAN);
          out.add(SpanProtos.fromProto(
              Span.parseFrom(CodedInputStream.newInstance(blob.bytes, blob.offset, blob.length))));
        }
        return out;
      } finally {
        searchers.release(s);
      }
    } catch (IOException e) {
      throw new StorageException("reading traces from " + dir + " failed: " + e.getMessage(), e);
    }
  }

  private Query filter(SpanQuery q) {
    long since = Math.max(q.sinceNanos(), retentionStartNanos());
    BooleanQuery.Builder b = new BooleanQuery.Builder();
    b.add(LongPoint.newRangeQuery(START, since, Long.MAX_VALUE), BooleanClause.Occur.FILTER);
    if (q.group() != null) {
      b.add(new TermQuery(new Term(GROUP, q.group())), BooleanClause.Occur.FILTER);
    }
    if (q.traceId() != null) {
      b.add(new TermQuery(new Term(TRACE_ID, q.traceId())), BooleanClause.Occur.FILTER);
    }
    return b.build();
  }

  /** Deletes the spans that started before the retention and commits; returns how many. */
  public long purgeExpired() {
    Query expired = LongPoint.newRangeQuery(START, Long.MIN_VALUE, retentionStartNanos() - 1);
    try {
      synchronized (indexLock) {
        searchers.maybeRefreshBlocking();
        IndexSearcher s = searchers.acquire();
        int n;
        try {
          n = s.count(expired);
        } finally {
          searchers.release(s);
        }
        if (n > 0) {
          writer.deleteDocuments(expired);
          writer.commit();
          purged.addAndGet(n);
          LOG.info("purged {} repair spans older than {} from {}", n, settings.retention(), dir);
        }
        return n;
      }
    } catch (IOException e) {
      throw new StorageException("purging expired traces in " + dir + " failed: " + e.getMessage(), e);
    }
  }

  /** Writes every buffered span and commits (what the flusher does every interval). */
  public void flush() {
    flushAndCommit(false);
  }

  private void flushAndCommit(boolean always) {
    try {
      synchronized (indexLock) {
        drainToIndex();
        if (uncommitted || always) {
          writer.commit();
          uncommitted = false;
        }
      }
    } catch (IOException e) {
      throw new StorageException("writing traces to " + dir + " failed: " + e.getMessage(), e);
    }
  }

  /** Spans handed to {@link #record} (stored, dropped or still buffered). */
  public long recordedCount() {
    return recorded.get();
  }

  /** Spans lost: buffer full, store closed, or a failed write. */
  public long droppedCount() {
    return dropped.get();
  }

  /** Spans written to the index (visible to queries; committed within a flush interval). */
  public long storedCount() {
    return stored.get();
  }

  /** Spans deleted by the retention purge. */
  public long purgedCount() {
    return purged.get();
  }

  /** Spans waiting in the buffer. */
  public int bufferedCount() {
    return buffer.size();
  }

  public Path directory() {
    return dir;
  }

  public Duration retention() {
    return settings.retention();
  }

  /** Holding {@link #indexLock}: moves the buffer into the writer in batches. */
  private void drainToIndex() throws IOException {
    List<RepairSpan> batch = new ArrayList<>(Math.min(settings.batchSize(), settings.bufferCapacity()));
    while (buffer.drainTo(batch, settings.batchSize()) > 0) {
      int written = 0;
      try {
        for (RepairSpan span : batch) {
          try {
            writer.addDocument(toDocument(span));
            written++;
          } catch (IllegalArgumentException tooBig) {
            // One unindexable span (e.g. an id beyond Lucene's term limit) must not cost the batch.
            onDropped(1, "span " + span.spanId() + " cannot be indexed: " + tooBig.getMessage());
          }
        }
      } catch (IOException | RuntimeException e) {
        onDropped(batch.size() - written, "writing to " + dir + " failed: " + e.getMessage());
        stored.addAndGet(written);
        throw e;
      }
      stored.addAndGet(written);
      uncommitted |= written > 0;
      batch.clear();
    }
  }

  private static Document toDocument(RepairSpan s) {
    Document d = new Document();
    d.add(new StringField(TRACE_ID, s.traceId(), Field.Store.NO));
    if (s.group() != null) {
      d.add(new StringField(GROUP, s.group(), Field.Store.NO));
    }
    d.add(new LongPoint(START, s.startNanos()));
    d.add(new NumericDocValuesField(START, s.startNanos()));
    d.add(new StoredField(SPAN, SpanProtos.toProto(s).toByteArray()));
    return d;
  }

  private void flushLoop() {
    long intervalNanos = settings.flushInterval().toNanos();
    long purgeEveryNanos = settings.purgeInterval().toNanos();
    long nextPurge = ticker.read() + purgeEveryNanos;
    while (!closed.get()) {
      // Woken early by record() once a batch is buffered, and by close().
      LockSupport.parkNanos(this, intervalNanos);
      if (closed.get()) {
        return;
      }
      try {
        flush();
        if (ticker.read() - nextPurge >= 0) {
          nextPurge = ticker.read() + purgeEveryNanos;
          purgeExpired();
        }
      } catch (RuntimeException e) {
        if (failureWarning.tryAcquire()) {
          LOG.warn("trace store {}: {}", dir, e.getMessage(), e);
        }
      }
    }
  }

  private void onDropped(long n, String why) {
    if (n <= 0) {
      return;
    }
    long total = dropped.addAndGet(n);
    if (dropWarning.tryAcquire()) {
      LOG.warn("dropped repair spans ({} so far): {}", total, why);
    }
  }

  private long retentionStartNanos() {
    long nowNanos = clock.nanos();
    return nowNanos - settings.retention().toNanos();
  }

  /** Stops the flusher, writes and commits what is buffered, and closes the index. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    LockSupport.unpark(flusher);
    try {
      flusher.join(CLOSE_WAIT.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      synchronized (indexLock) {
        drainToIndex();
        writer.commit();
      }
    } catch (IOException | RuntimeException e) {
      LOG.warn("trace store {}: last spans not committed at close: {}", dir, e.getMessage());
    } finally {
      try {
        searchers.close();
      } catch (IOException e) {
        LOG.debug("closing trace searchers", e);
      }
      closeQuietly(writer, directory);
    }
  }

  private static void closeQuietly(AutoCloseable... resources) {
    for (AutoCloseable r : resources) {
      if (r == null) {
        continue;
      }
      try {
        r.close();
      } catch (Exception e) {
        LOG.debug("closing {}", r, e);
      }
    }
  }

  @Override
  public String toString() {
    return "SpanStore[" + dir + ", retention " + settings.retention() + "]";
  }
}
