package io.feedrank.ranker.features;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class MalformedHashesTest {

  /** The WARN lines logged while {@code body} runs. */
  static List<String> lines(Runnable body) {
    Logger logger = (Logger) LoggerFactory.getLogger(MalformedHashes.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    try {
      body.run();
    } finally {
      logger.detachAppender(logs);
    }
    return logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
  }

  /**
   * The first hash that cannot be read is said at once, naming the entity and why; the next ones
   * within the minute are counted into the next line, written by the first one after the minute.
   */
  @Test
  void theFirstIsSaidAtOnceThenOneLineAMinuteWithTheCount() {
    long[] now = {0};
    MalformedHashes m = new MalformedHashes(() -> now[0]);
    assertThat(lines(() -> m.cannotRead("item", 42, new IllegalArgumentException("bad _ts"))))
        .singleElement()
        .asString()
        .startsWith("ranker: 1 feature hash(es) could not be read")
        .contains("cause=\"bad_features\"", "the last, item 42: bad _ts");
    List<String> quiet =
        lines(
            () -> {
              for (int i = 0; i < 5; i++) {
                now[0] += MalformedHashes.EVERY_NANOS / 10;
                m.cannotRead("user", i, new IllegalArgumentException("x" + i));
              }
            });
    assertThat(quiet).isEmpty();
    now[0] = MalformedHashes.EVERY_NANOS;
    assertThat(lines(() -> m.cannotRead("user", 9, new IllegalArgumentException("y"))))
        .singleElement()
        .asString()
        .startsWith("ranker: 6 feature hash(es)")
        .contains("the last, user 9: y");
  }

  /**
   * What the parse says of a hash of another feature schema version (a streams-features of another
   * release writing to this Redis): the entity, its id and the version, not only a fallback count.
   */
  @Test
  void aHashOfAnotherFeatureSchemaVersionIsSaidWithItsVersion() {
    Map<String, String> h = new HashMap<>(new io.feedrank.features.state.ItemState().toHash(null));
    h.put("_v", "99");
    MalformedHashes.SHARED.reset();
    List<String> said = lines(() -> assertThat(Parsed.Item.of(77, h).malformed()).isTrue());
    assertThat(said)
        .singleElement()
        .asString()
        .contains("the last, item 77: item hash has feature schema version 99");
  }

  /**
   * A hash whose counters no event can have written (here a 7-day click count of -1) is malformed:
   * default features, and the line names the entity and the field. It used to parse, and computing
   * its features threw on the request path.
   */
  @Test
  void aHashWithANegativeCounterIsMalformedAndSaidWithTheField() {
    Map<String, String> user = new HashMap<>(new io.feedrank.features.state.UserState().toHash());
    user.put("clicks_7d", "-1");
    MalformedHashes.SHARED.reset();
    List<String> said =
        lines(
            () -> {
              Parsed.User u = Parsed.User.of(5, user);
              assertThat(u.malformed()).isTrue();
              assertThat(u.state()).isEqualTo(new io.feedrank.features.state.UserState());
            });
    assertThat(said)
        .singleElement()
        .asString()
        .contains("the last, user 5: hash field 'clicks_7d' is a counter below 0: '-1'");
    Map<String, String> item =
        new HashMap<>(new io.feedrank.features.state.ItemState().toHash(null));
    item.put("clicks_7d", "-1");
    MalformedHashes.SHARED.reset();
    said = lines(() -> assertThat(Parsed.Item.of(6, item).malformed()).isTrue());
    assertThat(said)
        .singleElement()
        .asString()
        .contains("the last, item 6: hash field 'clicks_7d' is a counter below 0: '-1'");
  }
}
