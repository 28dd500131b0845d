package io.feedrank.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which partitions of a read count as trimmed: those read from the log's start after records were
 * deleted from it, not those whose deleted records were all older than the range.
 */
class TopicReadTest {

  @Test
  void aPartitionReadFromItsLogStartAfterADeleteIsTrimmedAndNoOtherIs() {
    TopicRead read =
        new TopicRead(
            "training-examples",
            "cluster",
            3_600_000,
            List.of(
                // nothing ever deleted: read from its first record
                new TopicRead.Partition(0, 0, 0, 100, 100, 1_000L),
                // retention deleted offsets 0-49; the first left is stamped after from − lateness
                new TopicRead.Partition(1, 50, 50, 100, 50, 1_000L),
                // retention deleted offsets 0-49, all older than the range: read from offset 70
                new TopicRead.Partition(2, 50, 70, 100, 30, 1_000L),
                // every record deleted: nothing left to read
                new TopicRead.Partition(3, 100, 100, 100, 0, null),
                // never written to
                new TopicRead.Partition(4, 0, 0, 0, 0, null)));
    assertThat(read.trimmedPartitions()).containsExactly(1, 3);
  }
}
