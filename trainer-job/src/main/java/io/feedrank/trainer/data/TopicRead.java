package io.feedrank.trainer.data;

import java.util.List;

/**
 * Which records of the examples topic a read took, so that a later read of the same range can be
 * told apart: the topic, the Kafka cluster's id (null when the brokers did not give it), the
 * lateness the read was seeked with, and per partition the offsets below.
 */
public record TopicRead(
    String topic, String clusterId, long latenessMillis, List<Partition> partitions) {

  public TopicRead {
    partitions = List.copyOf(partitions);
  }

  /**
   * One partition: its log's first offset when the read began ({@code logStartOffset}: retention or
   * {@code deleteRecords} removed every record before it), the offset read from ({@code
   * startOffset}: the first record stamped at or after {@code from − lateness}, or the end offset
   * when none is), the end offset read to, the records read between them (read_committed: neither
   * aborted records nor transaction markers), and the timestamp of the record read from (null when
   * nothing was read).
   */
  public record Partition(
      int partition,
      long logStartOffset,
      long startOffset,
      long endOffset,
      long recordsRead,
      Long startTimestampMillis) {

    /**
     * Whether records of the range may have been deleted: the read starts at the log's start, and
     * the log had records before it. Its first remaining record is stamped at or after {@code from
     * − lateness} (or there is none left), so the deleted ones may have been of the range. A
     * partition whose log starts before the records of the range (its retention has deleted only
     * older ones) is read from a later offset and is not trimmed.
     */
    public boolean trimmed() {
      return logStartOffset > 0 && startOffset == logStartOffset;
    }
  }

  /** The partitions {@link Partition#trimmed}, in partition order. */
  public List<Integer> trimmedPartitions() {
    return partitions.stream()
        .filter(Partition::trimmed)
        .map(Partition::partition)
        .sorted()
        .toList();
  }
}
