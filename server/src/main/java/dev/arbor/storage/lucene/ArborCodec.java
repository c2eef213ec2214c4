package dev.arbor.storage.lucene;

import org.apache.lucene.codecs.FilterCodec;
import org.apache.lucene.codecs.StoredFieldsFormat;
import org.apache.lucene.codecs.lucene90.compressing.Lucene90CompressingStoredFieldsFormat;
import org.apache.lucene.codecs.lucene912.Lucene912Codec;

/**
 * The codec of property indexes: Lucene's default with stored fields compressed only where it
 * pays ({@link AdaptiveCompressionMode}). Registered under {@link #NAME} with Lucene's service
 * loader, which is how segments written with it are read back; renaming it or its stored-fields
 * format name makes existing indexes unreadable.
 */
public final class ArborCodec extends FilterCodec {
  public static final String NAME = "Arbor1";
  /** Written in every stored-fields file header; part of the on-disk format. */
  static final String STORED_FIELDS_FORMAT = "ArborAdaptiveStoredFields1";

  private final StoredFieldsFormat storedFields =
      // Chunk size, docs per chunk and block shift of Lucene's fast stored-fields mode.
      new Lucene90CompressingStoredFieldsFormat(
          STORED_FIELDS_FORMAT, new AdaptiveCompressionMode(), 80 * 1024, 1024, 10);

  public ArborCodec() {
    // Not Codec.forName: this constructor runs while the service loader is still loading codecs.
    super(NAME, new Lucene912Codec());
  }

  @Override
  public StoredFieldsFormat storedFieldsFormat() {
    return storedFields;
  }
}
