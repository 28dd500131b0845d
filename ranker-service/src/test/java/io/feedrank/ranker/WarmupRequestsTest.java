package io.feedrank.ranker;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.events.Device;
import io.feedrank.ranker.api.RankRequest;
import io.feedrank.ranker.api.RequestParser;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The warm-up's requests are valid, made of the sampled ids, and varied as clients' are. */
class WarmupRequestsTest {
  private static final long AT = 1_780_000_000_000L;

  @Test
  void everyBodyParsesToDistinctCandidatesDrawnFromTheSample() {
    long[] users = LongStream.range(0, 300).map(i -> 7 * i + 3).toArray();
    long[] items = LongStream.range(0, 2_000).map(i -> 11 * i + 5).toArray();
    Set<Long> knownUsers = set(users);
    Set<Long> knownItems = set(items);
    Warmup.Requests requests = new Warmup.Requests(new SplittableRandom(3), users, items, 100);
    RequestParser parser = new RequestParser(() -> AT);

    int n = 2_000;
    long rows = 0;
    long unknownRows = 0;
    int unknownUsers = 0;
    int minSize = Integer.MAX_VALUE;
    int maxSize = 0;
    Set<Device> devices = EnumSet.noneOf(Device.class);
    Set<Long> itemsSeen = new HashSet<>();
    for (int i = 0; i < n; i++) {
      RankRequest r = parser.parse(requests.next()); // throws for an invalid body
      int size = r.itemIds().length;
      minSize = Math.min(minSize, size);
      maxSize = Math.max(maxSize, size);
      assertThat(Arrays.stream(r.itemIds()).distinct().count()).isEqualTo(size);
      for (long id : r.itemIds()) {
        rows++;
        if (knownItems.contains(id)) {
          itemsSeen.add(id);
        } else {
          unknownRows++;
          assertThat(id).isGreaterThan(11 * 1_999 + 5); // past every sampled id
        }
      }
      if (!knownUsers.contains(r.userId())) {
        unknownUsers++;
        assertThat(r.userId()).isGreaterThan(7 * 299 + 3);
      }
      devices.add(r.device());
    }
    // from half to one and a half times the mean of 100
    assertThat(minSize).isBetween(50, 55);
    assertThat(maxSize).isBetween(145, 150);
    // one in fifty unknown: 2%, with a binomial standard deviation of 0.03% over ~200,000 rows
    assertThat((double) unknownRows / rows).isBetween(0.018, 0.022);
    // 2% of 2,000 users: 40 ± 6.3
    assertThat(unknownUsers).isBetween(20, 60);
    // the requests together touch almost every sampled item: 2,000 × 98 draws from 2,000 ids
    assertThat(itemsSeen).hasSize(items.length);
    assertThat(devices).containsAll(EnumSet.allOf(Device.class));
  }

  @Test
  void withFewerItemsThanCandidatesTheRestAreUnknownAndStillDistinct() {
    long[] items = {4, 8, 15};
    Warmup.Requests requests =
        new Warmup.Requests(new SplittableRandom(5), new long[] {1}, items, 40);
    RequestParser parser = new RequestParser(() -> AT);
    for (int i = 0; i < 200; i++) {
      RankRequest r = parser.parse(requests.next());
      assertThat(r.itemIds().length).isBetween(20, 60);
      assertThat(Arrays.stream(r.itemIds()).distinct().count()).isEqualTo(r.itemIds().length);
    }
  }

  @Test
  void withNothingSampledTheRequestsAreAllUnknownIds() {
    Warmup.Requests requests =
        new Warmup.Requests(new SplittableRandom(5), new long[0], new long[0], 10);
    RankRequest r = new RequestParser(() -> AT).parse(requests.next());
    assertThat(r.userId()).isPositive();
    assertThat(Arrays.stream(r.itemIds()).min().getAsLong()).isPositive();
  }

  private static Set<Long> set(long[] ids) {
    Set<Long> s = new HashSet<>();
    for (long id : ids) {
      s.add(id);
    }
    return s;
  }
}
