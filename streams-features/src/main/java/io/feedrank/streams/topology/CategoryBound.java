package io.feedrank.streams.topology;

import io.feedrank.events.ItemMetadata;
import io.feedrank.streams.metrics.FeatureMetrics;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds an item's category where the items table is read, before anything keeps it (the table's
 * store keeps the topic's record as it is), and counts and logs one too long where the record
 * arrives. The category is a key of the state of every user who sees the item, and with it goes
 * into that state's changelog record, the user's Redis field names ({@code c.<category>.*}), the
 * repartition record and the training example: unbounded, a user who saw two items of 600 KB
 * categories (or a hundred of 10 KB) had a state larger than the producer's {@code
 * max.request.size}, which could never be committed, and their partition stopped there for good.
 *
 * <p>An item whose category is longer than {@code maxBytes} (UTF-8) is kept with its other metadata
 * and no category ({@code ""}, as an item whose category is not known): its events count for the
 * user's and the item's features and become training examples, with no user-category features. It
 * is counted ({@code features.items.category.too.long}) and logged. The record stays in the {@code
 * items} topic as it is; a record of the item with a category within the bound replaces it.
 */
final class CategoryBound {
  private static final Logger log = LoggerFactory.getLogger(CategoryBound.class);

  /** How much of a category too long the log line shows. */
  static final int SHOWN_CHARS = 64;

  private final int maxBytes;
  private final FeatureMetrics metrics;

  CategoryBound(int maxBytes, FeatureMetrics metrics) {
    this.maxBytes = maxBytes;
    this.metrics = metrics;
  }

  /**
   * {@code metadata}, or a copy of it with no category when its category is too long; counted and
   * logged.
   */
  ItemMetadata admit(long itemId, ItemMetadata metadata) {
    ItemMetadata kept = bounded(metadata);
    if (kept == metadata) {
      return metadata;
    }
    String category = metadata.getCategory();
    int bytes = category.getBytes(StandardCharsets.UTF_8).length;
    metrics.categoryTooLong();
    log.warn(
        "features: item {} has a category of {} UTF-8 bytes, longer than"
            + " items.category.max.bytes ({}); the item is kept with no category. It begins '{}'",
        itemId,
        bytes,
        maxBytes,
        category.substring(0, Math.min(category.length(), SHOWN_CHARS)));
    return kept;
  }

  /**
   * {@code metadata}, or a copy of it with no category when its category is too long; neither
   * counted nor logged. The items table's store keeps the topic's record, so this is what its
   * readers see of it: cheap for a category within the bound, as the store is read per event.
   */
  ItemMetadata bounded(ItemMetadata metadata) {
    String category = metadata.getCategory();
    // one to three UTF-8 bytes per char (four for a surrogate pair, two chars): counted only
    // between those bounds
    int chars = category.length();
    if (chars * 3L <= maxBytes
        || chars <= maxBytes && category.getBytes(StandardCharsets.UTF_8).length <= maxBytes) {
      return metadata;
    }
    return ItemMetadata.newBuilder(metadata).setCategory("").build();
  }
}
