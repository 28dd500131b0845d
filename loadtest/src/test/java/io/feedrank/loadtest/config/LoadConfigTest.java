package io.feedrank.loadtest.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.loadtest.config.LoadConfig.Arrivals;
import io.feedrank.loadtest.scenarios.RankScenarios;
import io.feedrank.loadtest.simulations.RankRamp;
import io.feedrank.loadtest.simulations.RankSoak;
import io.feedrank.loadtest.simulations.RankSpike;
import io.feedrank.loadtest.simulations.RankSteady;
import io.gatling.core.controller.inject.open.ConstantRateOpenInjection;
import io.gatling.core.controller.inject.open.PoissonOpenInjection;
import io.gatling.core.controller.inject.open.RampRateOpenInjection;
import io.gatling.javaapi.core.Assertion;
import io.gatling.javaapi.core.OpenInjectionStep;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.concurrent.duration.FiniteDuration;

/**
 * A load test's settings: the target when none is given, where the API key comes from, and what is
 * refused at the start.
 */
class LoadConfigTest {
  @TempDir Path dir;

  @Test
  void theApiKeyComesFromTheEnvironmentOrAFileNeverFromAProperty() throws Exception {
    Path file = dir.resolve("key");
    Files.writeString(file, "\n  from-file  \nsecond line\n");
    assertThat(LoadConfig.apiKey(Map.of(LoadConfig.API_KEY_ENV, "from-env"), file.toString()))
        .isEqualTo("from-env");
    assertThat(LoadConfig.apiKey(Map.of(), file.toString())).isEqualTo("from-file");
    assertThat(LoadConfig.apiKey(Map.of(), null)).isEmpty();
    Files.writeString(file, "\n");
    assertThatThrownBy(() -> LoadConfig.apiKey(Map.of(), file.toString()))
        .hasMessageContaining("is empty");
    System.setProperty("api.key", "on-the-command-line");
    try {
      assertThatThrownBy(() -> LoadConfig.apiKey(Map.of(LoadConfig.API_KEY_ENV, "x"), null))
          .hasMessageContaining(LoadConfig.API_KEY_ENV);
    } finally {
      System.clearProperty("api.key");
    }
  }

  /**
   * Without a target given, the ranker of the running ./feedrank up of the checkout: it took a
   * random port if 8080 was taken, and a load test of 8080 then measured whatever listened there. A
   * stack.properties left by an up that is gone (its lock free) is not taken; a target given always
   * is.
   */
  @Test
  void theDefaultTargetIsTheRankerOfTheRunningUp() throws Exception {
    Map<String, String> env = Map.of("FEEDRANK_HOME", dir.toString());
    Path state = Files.createDirectories(dir.resolve(".feedrank"));
    assertThat(LoadConfig.target(null, env)).isEqualTo("http://localhost:8080"); // no up ran
    Files.writeString(
        state.resolve("stack.properties"),
        "ranker.url=http\\://127.0.0.1\\:41234\npid=" + ProcessHandle.current().pid() + "\n");
    try (FileChannel channel =
            FileChannel.open(
                state.resolve("up.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock up = channel.lock()) {
      assertThat(LoadConfig.target(null, env)).isEqualTo("http://127.0.0.1:41234");
      assertThat(LoadConfig.target("http://ranker.internal:8080", env))
          .isEqualTo("http://ranker.internal:8080");
    }
    // the up is gone (killed: no hook withdrew its announcement), and its pid may be anyone's
    assertThat(LoadConfig.target(null, env)).isEqualTo("http://localhost:8080");
  }

  @Test
  void settingsOutOfRangeAreRefusedAtTheStart() {
    assertThat(config(100, 10, 2000, 60).candidates()).isEqualTo(100);
    // the feeder draws distinct candidates, at most half the items
    assertThat(config(1000, 10, 2000, 60).candidates()).isEqualTo(1000);
    assertThatThrownBy(() -> config(1000, 10, 1999, 60))
        .hasMessageContaining("at most half the items (1999)");
    assertThatThrownBy(() -> config(100, 0, 2000, 60)).hasMessageContaining("top.k must be >= 1");
    assertThatThrownBy(() -> config(100, 10, 2000, 0))
        .hasMessageContaining("duration must be > 0 seconds");
    assertThatThrownBy(() -> config(100, 10, 2000, 60, -1))
        .hasMessageContaining("assert.p99.ms must be >= 0");
  }

  /**
   * A property that is not a number is refused naming it: Integer.getInteger and Long.getLong take
   * their default for one, so --duration 5m ran 60 s and --assert-p99-ms 20ms asserted 50.
   */
  @Test
  void aPropertyThatIsNotANumberIsRefusedNotReplacedByTheDefault() {
    Map<String, String> bad =
        Map.of(
            "duration", "5m",
            "assert.p99.ms", "20ms",
            "rate", "abc",
            "spike.factor", "Infinity",
            "candidates", "99999999999");
    for (var e : bad.entrySet()) {
      System.setProperty(e.getKey(), e.getValue());
      try {
        assertThatThrownBy(LoadConfig::fromSystemProperties)
            .as(e.getKey())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith(e.getKey() + " ");
      } finally {
        System.clearProperty(e.getKey());
      }
    }
    System.setProperty("duration", "300");
    System.setProperty("seed", "9007199254740993"); // 2^53 + 1: no double holds it
    try {
      LoadConfig c = LoadConfig.fromSystemProperties();
      assertThat(c.duration()).isEqualTo(Duration.ofMinutes(5));
      assertThat(c.seed()).isEqualTo(9007199254740993L);
    } finally {
      System.clearProperty("duration");
      System.clearProperty("seed");
    }
    for (String[] range :
        new String[][] {
          {"assert.error.percent", "150"},
          {"spike.factor", "0.5"},
          {"max.rate", "0"},
          {"assert.fallback.percent", "-1"},
          {"ranker.replicas", "0"}
        }) {
      System.setProperty(range[0], range[1]);
      try {
        assertThatThrownBy(LoadConfig::fromSystemProperties)
            .as(range[0])
            .hasMessageStartingWith(range[0] + " must be");
      } finally {
        System.clearProperty(range[0]);
      }
    }
  }

  @Test
  void aP99BoundOfZeroLeavesOnlyTheErrorBound() {
    // Gatling's Java assertions wrap Scala case classes, which compare by value
    assertThat(RankScenarios.assertions(config(100, 10, 2000, 60, 50)))
        .extracting(Assertion::asScala)
        .hasSize(2)
        .element(1)
        .isEqualTo(RankScenarios.errorBound(config(100, 10, 2000, 60, 50)).asScala());
    assertThat(RankScenarios.assertions(config(100, 10, 2000, 60, 0)))
        .extracting(Assertion::asScala)
        .containsExactly(RankScenarios.errorBound(config(100, 10, 2000, 60, 0)).asScala());
  }

  /**
   * The target is the requests' base URL: with a trailing slash every request went to {@code
   * //v1/rank}, a 404 for the whole run; without a scheme, or with a path, it is no base URL.
   */
  @Test
  void theTargetIsABaseUrlItsTrailingSlashesDropped() {
    assertThat(LoadConfig.normalisedTarget("http://127.0.0.1:8080/"))
        .isEqualTo("http://127.0.0.1:8080");
    assertThat(LoadConfig.normalisedTarget(" https://ranker.internal// "))
        .isEqualTo("https://ranker.internal");
    assertThat(LoadConfig.normalisedTarget("HTTP://[::1]:8080")).isEqualTo("HTTP://[::1]:8080");
    for (String bad :
        List.of(
            "localhost:8080",
            "127.0.0.1:8080",
            "ranker.internal",
            "ftp://ranker.internal",
            "http://",
            "http://ranker.internal:8080/v1",
            "http://ranker.internal:8080?x=1",
            "http://user@ranker.internal:8080")) {
      assertThatThrownBy(() -> LoadConfig.normalisedTarget(bad))
          .as(bad)
          .hasMessage(
              "target must be http://host[:port] or https://host[:port], got '" + bad + "'");
    }
    System.setProperty("target", "http://127.0.0.1:41234/");
    try {
      assertThat(LoadConfig.fromSystemProperties().target()).isEqualTo("http://127.0.0.1:41234");
      System.setProperty("target", "localhost:8080");
      assertThatThrownBy(LoadConfig::fromSystemProperties).hasMessageStartingWith("target must be");
    } finally {
      System.clearProperty("target");
    }
  }

  /**
   * A ramp ends at max.rate, which is at least rate: from --rate 2500 with the default max.rate it
   * ramped down. The default max.rate is a ranker's default rate limit, 1,000/s: 2,000 ran into
   * 429s halfway through a default ramp against ./feedrank up.
   */
  @Test
  void aRampEndsAtOrAboveItsStartAndWithinADefaultRanker() {
    assertThat(LoadConfig.fromSystemProperties().maxRate()).isEqualTo(1000);
    assertThat(config(100, 1000, Arrivals.POISSON).rampEndRate()).isEqualTo(1000);
    assertThat(config(1000, 1000, Arrivals.POISSON).rampEndRate()).isEqualTo(1000);
    LoadConfig down = config(2500, 1000, Arrivals.POISSON);
    assertThatThrownBy(down::rampEndRate)
        .hasMessage("max.rate must be >= rate for a ramp, got 1000.0 < 2500.0");
    assertThatThrownBy(() -> RankRamp.load(down)).hasMessageStartingWith("max.rate must be");
    // steady, spike and soak have no ramp: max.rate is not theirs to refuse
    assertThat(RankSteady.load(down)).hasSize(1);
  }

  /**
   * Poisson arrivals by default (Gatling's randomized steps: exponential gaps at the step's rate),
   * in every simulation's measured load and in the warm-up's ramp; uniform, evenly spaced, when
   * asked. The steps are Gatling's own injection profiles, told apart by their classes.
   */
  @Test
  void arrivalsArePoissonUnlessUniformIsAsked() {
    assertThat(LoadConfig.fromSystemProperties().arrivals()).isEqualTo(Arrivals.POISSON);
    System.setProperty("arrivals", " Uniform ");
    try {
      assertThat(LoadConfig.fromSystemProperties().arrivals()).isEqualTo(Arrivals.UNIFORM);
      System.setProperty("arrivals", "even");
      assertThatThrownBy(LoadConfig::fromSystemProperties)
          .hasMessage("arrivals must be poisson or uniform, got 'even'");
    } finally {
      System.clearProperty("arrivals");
    }

    LoadConfig poisson = config(5, 10, Arrivals.POISSON);
    List<OpenInjectionStep> steps = new ArrayList<>();
    steps.addAll(List.of(RankSteady.load(poisson)));
    steps.addAll(List.of(RankRamp.load(poisson)));
    steps.addAll(List.of(RankSpike.load(poisson)));
    steps.addAll(List.of(RankSoak.load(poisson)));
    steps.add(RankScenarios.ramp(poisson, 0.5, 5, Duration.ofSeconds(10)));
    assertThat(steps).hasSize(7);
    for (OpenInjectionStep step : steps) {
      assertThat(step.asScala()).isInstanceOf(PoissonOpenInjection.class);
    }
    // the rates and lengths are the profile's: the spike's 10 × 5/s for a sixth of 60 s
    PoissonOpenInjection spike = (PoissonOpenInjection) RankSpike.load(poisson)[1].asScala();
    assertThat(List.of(spike.startRate(), spike.endRate(), spike.duration().toSeconds()))
        .containsExactly(50.0, 50.0, 10L);
    PoissonOpenInjection ramp = (PoissonOpenInjection) RankRamp.load(poisson)[0].asScala();
    assertThat(List.of(ramp.startRate(), ramp.endRate(), ramp.duration().toSeconds()))
        .containsExactly(5.0, 10.0, 120L);

    LoadConfig uniform = config(5, 10, Arrivals.UNIFORM);
    assertThat(RankSteady.load(uniform)[0].asScala())
        .isEqualTo(new ConstantRateOpenInjection(5, FiniteDuration.apply(60, TimeUnit.SECONDS)));
    assertThat(RankRamp.load(uniform)[0].asScala())
        .isEqualTo(new RampRateOpenInjection(5, 10, FiniteDuration.apply(120, TimeUnit.SECONDS)));
  }

  private static LoadConfig config(int candidates, int topK, int items, long seconds) {
    return config(candidates, topK, items, seconds, 50);
  }

  private static LoadConfig config(
      int candidates, int topK, int items, long seconds, int p99Millis) {
    return config(candidates, topK, items, seconds, p99Millis, 100, 1000, Arrivals.POISSON);
  }

  private static LoadConfig config(double rate, double maxRate, Arrivals arrivals) {
    return config(100, 10, 2000, 60, 50, rate, maxRate, arrivals);
  }

  private static LoadConfig config(
      int candidates,
      int topK,
      int items,
      long seconds,
      int p99Millis,
      double rate,
      double maxRate,
      Arrivals arrivals) {
    return new LoadConfig(
        "http://localhost:8080",
        "",
        candidates,
        topK,
        rate,
        maxRate,
        Duration.ofSeconds(seconds),
        Duration.ofSeconds(120),
        10,
        Duration.ofSeconds(3600),
        Duration.ofSeconds(10),
        arrivals,
        p99Millis,
        0,
        0,
        1,
        1000,
        items,
        1);
  }
}
