package io.feedrank.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.avro.registry.RegistryConfig;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The registry's keys: all of them are read, and a bad one is refused by its name. */
class DriftConfigTest {
  private static Map<String, String> required() {
    Map<String, String> p = new HashMap<>();
    p.put("bootstrap.servers", "127.0.0.1:9092");
    p.put("schema.registry.url", "http://127.0.0.1:8081/apis/ccompat/v7");
    return p;
  }

  @Test
  void aKeyTheJobDoesNotReadIsRefusedWithTheNearestKnownOne() {
    Map<String, String> p = required();
    p.put("persistance.windows", "5");
    assertThatThrownBy(() -> DriftConfig.from(p))
        .hasMessage(
            "unknown config key persistance.windows (did you mean persistence.windows?):"
                + " the drift job reads no such key");
    Map<String, String> known = required();
    known.put("kafka.security.protocol", "SSL");
    known.put("schema.registry.max.retries", "1");
    known.put("delivery.guarantee", "at-least-once");
    assertThat(DriftConfig.from(known).kafka()).containsEntry("security.protocol", "SSL");
  }

  @Test
  void autoRegisterSchemasReachesTheSerdesAndABadValueIsRefusedByName() {
    Map<String, String> p = required();
    assertThat(DriftConfig.from(p).registry()).containsEntry("auto.register.schemas", "true");
    p.put("auto.register.schemas", "false");
    assertThat(DriftConfig.from(p).registry()).containsEntry("auto.register.schemas", "false");
    p.put("auto.register.schemas", "off");
    assertThatThrownBy(() -> DriftConfig.from(p))
        .hasMessageContaining("auto.register.schemas must be true or false");
  }

  /**
   * Values that would change the job quietly are refused by name: a fraction of a window cut to a
   * whole one, a typo read as false, a threshold that can never or always fire.
   */
  @Test
  void valuesOutOfRangeOrOfTheWrongKindAreRefusedByName() {
    Map<String, String[]> refused =
        Map.ofEntries(
            Map.entry("persistence.windows", new String[] {"2.5", "must be a whole number"}),
            Map.entry("window.ms", new String[] {"0", "must be at least 1"}),
            Map.entry("parallelism", new String[] {"0", "must be at least 1"}),
            Map.entry("from.earliest", new String[] {"yes", "must be true or false"}),
            Map.entry("bounded", new String[] {"ture", "must be true or false"}),
            Map.entry("psi.threshold", new String[] {"-0.1", "must be above 0"}),
            Map.entry("ks.threshold", new String[] {"1.5", "must be above 0.0 and below 1.0"}),
            Map.entry("p.value.threshold", new String[] {"0", "must be above 0.0 and below 1.0"}),
            Map.entry("ctr.drop.fraction", new String[] {"1", "must be above 0.0 and below 1.0"}),
            Map.entry("min.sample", new String[] {"-1", "must be at least 0"}),
            Map.entry("gauge.expiry.windows", new String[] {"0", "must be at least 1"}),
            // Flink refuses these itself, later and without naming the key
            Map.entry("idleness.ms", new String[] {"0", "must be at least 1"}),
            Map.entry("checkpoint.interval.ms", new String[] {"5", "must be at least 10"}));
    refused.forEach(
        (key, v) -> {
          Map<String, String> p = required();
          p.put(key, v[0]);
          assertThatThrownBy(() -> DriftConfig.from(p))
              .as(key + "=" + v[0])
              .hasMessageContaining(key + " " + v[1]);
        });
    Map<String, String> p = required();
    p.put("persistence.windows", "3");
    p.put("from.earliest", "TRUE");
    p.put("ks.threshold", "0.15");
    p.put("gauge.expiry.windows", "6");
    DriftConfig c = DriftConfig.from(p);
    assertThat(c.settings().persistence()).isEqualTo(3);
    assertThat(c.settings().gaugeExpiryWindows()).isEqualTo(6);
    assertThat(DriftConfig.from(required()).settings().gaugeExpiryWindows()).isEqualTo(3);
    assertThat(c.fromEarliest()).isTrue();
    assertThat(c.settings().thresholds().ks()).isEqualTo(0.15);
  }

  @Test
  void theRegistrysRetriesAndCredentialsAreReadAndABadOneIsRefusedByName() {
    Map<String, String> p = required();
    p.put("schema.registry.max.retries", "7");
    p.put("schema.registry.retry.backoff.max.ms", "3000");
    p.put("schema.registry.request.timeout.ms", "1500");
    p.put("basic.auth.user.info", "app:secret");
    // the sources' serdes get every key, and read them back as configured
    RegistryConfig r = RegistryConfig.fromMap(DriftConfig.from(p).registry());
    assertThat(r.maxRetries()).isEqualTo(7);
    assertThat(r.maxBackoff()).hasMillis(3000);
    assertThat(r.requestTimeout()).hasMillis(1500);
    assertThat(r.basicAuthUserInfo()).isEqualTo("app:secret");
    p.put("schema.registry.retry.backoff.ms", "-1");
    assertThatThrownBy(() -> DriftConfig.from(p))
        .hasMessageContaining("schema.registry.retry.backoff.ms must be > 0");
    p.remove("schema.registry.retry.backoff.ms");
    p.remove("schema.registry.url");
    assertThatThrownBy(() -> DriftConfig.from(p)).hasMessage("missing config schema.registry.url");
  }

  /** A properties file keeps trailing spaces: model.name=feed-ranker matched no model. */
  @Test
  void stringValuesAreReadWithoutSurroundingWhitespace() {
    Map<String, String> p = required();
    p.put("model.name", "feed-ranker ");
    p.put("group.id", " drift ");
    DriftConfig c = DriftConfig.from(p);
    assertThat(c.settings().modelName()).isEqualTo("feed-ranker");
    assertThat(c.groupId("examples")).isEqualTo("drift-examples");
  }

  /**
   * Two models' jobs deployed with only {@code model.name} changed (a second FlinkDeployment): in
   * one group and with one transactional id prefix, their exactly-once sinks fenced each other's
   * producers and their sources shared committed offsets, and under one job name their metrics
   * merged. Given, the keys are taken as they are; the job's name follows the model regardless.
   */
  @Test
  void twoModelsGetConsumerGroupsAndTransactionalIdsOfTheirOwn() {
    Map<String, String> a = required();
    a.put("model.name", "feed-ranker");
    Map<String, String> b = required();
    b.put("model.name", "two-tower");
    DriftConfig ca = DriftConfig.from(a);
    DriftConfig cb = DriftConfig.from(b);
    assertThat(ca.groupId()).isEqualTo("feedrank-drift-feed-ranker");
    assertThat(cb.groupId()).isEqualTo("feedrank-drift-two-tower");
    assertThat(ca.groupId("examples")).isEqualTo("feedrank-drift-feed-ranker-examples");
    assertThat(ca.transactionalIdPrefix()).isEqualTo("feedrank-drift-feed-ranker");
    assertThat(cb.transactionalIdPrefix()).isEqualTo("feedrank-drift-two-tower");
    assertThat(DriftConfig.from(required()).groupId()).isEqualTo("feedrank-drift-feed-ranker");
    // and Flink jobs of their own names, which their metrics carry as job_name
    assertThat(ca.jobName()).isEqualTo("feedrank-drift-feed-ranker");
    assertThat(cb.jobName()).isEqualTo("feedrank-drift-two-tower");
    a.put("group.id", "feedrank-drift");
    assertThat(DriftConfig.from(a).groupId()).isEqualTo("feedrank-drift");
    assertThat(DriftConfig.from(a).transactionalIdPrefix()).isEqualTo("feedrank-drift");
    assertThat(DriftConfig.from(a).jobName()).isEqualTo("feedrank-drift-feed-ranker");
    a.put("transactional.id.prefix", "tx");
    assertThat(DriftConfig.from(a).transactionalIdPrefix()).isEqualTo("tx");
  }

  /** (int) of a long: persistence.windows=4294967298 became 2, parallelism likewise. */
  @Test
  void anIntKeyOutOfTheIntRangeIsRefusedNamingTheKeyNotCut() {
    for (String key : new String[] {"persistence.windows", "parallelism", "ctr.baseline.windows"}) {
      Map<String, String> p = required();
      p.put(key, "4294967298");
      assertThatThrownBy(() -> DriftConfig.from(p))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(key + " must be within 1..2147483647, got 4294967298");
    }
    Map<String, String> ok = required();
    ok.put("persistence.windows", "2147483647");
    ok.put("parallelism", "3");
    DriftConfig c = DriftConfig.from(ok);
    assertThat(c.settings().persistence()).isEqualTo(Integer.MAX_VALUE);
    assertThat(c.parallelism()).isEqualTo(3);
  }

  /** Misspelt names matched no feature: the job started watching none of them, silently. */
  @Test
  void aMonitoredFeatureTheJobDoesNotProfileIsRefusedNamingItAndTheValidOnes() {
    Map<String, String> p = required();
    p.put("monitored.features", "item_categry, devcie,i_content_length");
    assertThatThrownBy(() -> DriftConfig.from(p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "monitored.features names features the job does not profile: devcie, item_categry;"
                + " it can monitor ")
        .hasMessageContaining(" device, ")
        .hasMessageContaining(" item_category, ")
        .hasMessageContaining(" hour_of_day, ")
        .hasMessageContaining(" u_ctr_7d, ")
        .hasMessageEndingWith(", or * for all");
    p.put("monitored.features", "item_category, device,i_content_length,hour_of_day,u_ctr_7d");
    assertThat(DriftConfig.from(p).monitored())
        .containsExactlyInAnyOrder(
            "item_category", "device", "i_content_length", "hour_of_day", "u_ctr_7d");
    assertThat(DriftConfig.from(required()).monitored())
        .containsExactlyInAnyOrder("item_category", "device", "i_content_length");
    p.put("monitored.features", "*");
    assertThat(DriftConfig.from(p).monitored()).isNull();
  }

  /** kafka.bootstrap.servers and kafka.group.id were silently ignored: the job's own won. */
  @Test
  void aKafkaKeyRepeatingOneOfTheJobsOwnIsRefusedNamingBoth() {
    Map<String, String> p = required();
    p.put("kafka.group.id", "hijack");
    assertThatThrownBy(() -> DriftConfig.from(p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "kafka.group.id duplicates group.id, which the drift job sets itself:"
                + " give group.id only");
    Map<String, String> servers = required();
    servers.put("kafka.bootstrap.servers", "elsewhere:9092");
    assertThatThrownBy(() -> DriftConfig.from(servers))
        .hasMessageStartingWith("kafka.bootstrap.servers duplicates bootstrap.servers, ");
  }

  /**
   * How far ahead of the clock the sources take an event time: by default as far as the
   * out-of-orderness, so that no record taken moves a watermark past the clock.
   */
  @Test
  void maxAheadOfClockFollowsTheOutOfOrdernessUnlessSet() {
    Map<String, String> p = required();
    assertThat(DriftConfig.from(p).maxAheadOfClock()).hasMillis(30_000);
    assertThat(DriftConfig.from(p).eventTimes().maxAheadMillis()).isEqualTo(30_000);
    p.put("out.of.orderness.ms", "5000");
    assertThat(DriftConfig.from(p).maxAheadOfClock()).hasMillis(5_000);
    p.put("max.ahead.of.clock.ms", "0");
    assertThat(DriftConfig.from(p).maxAheadOfClock()).hasMillis(0);
    p.put("max.ahead.of.clock.ms", Long.toString(Long.MAX_VALUE));
    assertThat(DriftConfig.from(p).eventTimes().maxAheadMillis()).isEqualTo(Long.MAX_VALUE);
    p.put("max.ahead.of.clock.ms", "-1");
    assertThatThrownBy(() -> DriftConfig.from(p))
        .hasMessage("max.ahead.of.clock.ms must be at least 0, got -1");
  }
}
