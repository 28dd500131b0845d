package io.feedrank.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import io.gatling.commons.util.LatestGatlingRelease$;
import io.gatling.core.config.GatlingConfiguration;
import io.gatling.core.config.GatlingConfiguration$;
import java.io.IOException;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A Gatling run (the smoke IT in every build, {@code ./feedrank loadtest}) talks to the ranker
 * under test and to nothing else, and writes nothing into the user's home directory. By default
 * Gatling sends usage analytics, warms its HTTP client up on https://gatling.io and asks Maven
 * Central for its latest release, keeping the answer in ~/.java.
 */
class GatlingSettingsTest {
  @Test
  void analyticsAndGatlingsOwnHttpWarmUpAreOff() {
    // the configuration as a run loads it: gatling.conf from the classpath over Gatling's defaults,
    // which are enableAnalytics = true and warmUpUrl = "https://gatling.io"
    GatlingConfiguration configuration = GatlingConfiguration$.MODULE$.load();
    assertThat(configuration.data().enableAnalytics()).isFalse();
    assertThat(configuration.http().warmUpUrl().isEmpty()).as("no warm-up URL").isTrue();
  }

  @Test
  void theCheckForANewerGatlingAsksNoServerAndKeepsToTheBuildDirectory() {
    assertThat(Path.of(System.getProperty("java.util.prefs.userRoot", "(unset: ~/.java)")))
        .as("where Java preferences are kept")
        .startsWithRaw(Path.of("target").toAbsolutePath());
    // Gatling opens its connection to Maven Central with the JDK's HTTP client, which asks the
    // default proxy selector first: this one notes the address and lets no connection start
    List<URI> asked = new CopyOnWriteArrayList<>();
    ProxySelector before = ProxySelector.getDefault();
    ProxySelector.setDefault(
        new ProxySelector() {
          @Override
          public List<Proxy> select(URI uri) {
            asked.add(uri);
            throw new IllegalStateException("this test lets no connection start: " + uri);
          }

          @Override
          public void connectFailed(URI uri, SocketAddress address, IOException e) {}
        });
    try {
      assertThat(LatestGatlingRelease$.MODULE$.load().isEmpty())
          .as("a newer release to warn about")
          .isTrue();
    } finally {
      ProxySelector.setDefault(before);
    }
    assertThat(asked).isEmpty();
  }
}
