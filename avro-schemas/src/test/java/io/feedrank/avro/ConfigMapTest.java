package io.feedrank.avro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigMapTest {

  @Test
  void editDistanceCountsInsertionsDeletionsAndSubstitutions() {
    assertThat(ConfigMap.distance("kitten", "sitting")).isEqualTo(3); // the textbook pair
    assertThat(ConfigMap.distance("", "abc")).isEqualTo(3);
    assertThat(ConfigMap.distance("abc", "")).isEqualTo(3);
    assertThat(ConfigMap.distance("flaw", "lawn")).isEqualTo(2);
    assertThat(ConfigMap.distance("api.keys.file", "api.key.file")).isEqualTo(1);
    assertThat(ConfigMap.distance("same", "same")).isZero();
  }

  @Test
  void keysReadThroughTheMapOrMarkedKnownOrPassedOnAreAcceptedAndOthersNamed() {
    ConfigMap m =
        new ConfigMap(
            Map.of(
                "window.ms", "1",
                "persistence.windos", "2",
                "kafka.acks", "all",
                "zzz", "3"));
    assertThat(m.get("window.ms")).isEqualTo("1");
    assertThat(m.getOrDefault("persistence.windows", "9")).isEqualTo("9");
    assertThat(m.containsKey("min.sample")).isFalse();
    assertThatThrownBy(() -> m.refuseUnread("the drift job", "kafka."))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "unknown config keys persistence.windos (did you mean persistence.windows?), zzz:"
                + " the drift job reads no such key");
    ConfigMap clean = new ConfigMap(Map.of("window.ms", "1", "kafka.acks", "all"));
    clean.get("window.ms");
    clean.refuseUnread("the drift job", "kafka."); // nothing unknown: no exception
  }

  /** A properties file keeps a value's trailing spaces: model.name=feed-ranker matched no model. */
  @Test
  void valuesAreReadWithoutSurroundingWhitespace() {
    ConfigMap m = new ConfigMap(Map.of("model.name", "feed-ranker \t", "host", "  a.b ", "e", " "));
    assertThat(m.get("model.name")).isEqualTo("feed-ranker");
    assertThat(m.getOrDefault("host", "127.0.0.1")).isEqualTo("a.b");
    assertThat(m.get("e")).isEmpty();
    assertThat(m.get("missing")).isNull();
    assertThat(m.getOrDefault("missing", "d")).isEqualTo("d");
  }
}
