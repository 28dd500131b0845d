package io.feedrank.trainer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.feedrank.avro.registry.RegistryConfig;
import io.feedrank.trainer.train.Architecture;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The registry's keys: all of them are read, and a bad one is refused by its name. */
class TrainerConfigTest {
  private static Map<String, String> required() {
    Map<String, String> p = new HashMap<>();
    p.put("bootstrap.servers", "127.0.0.1:9092");
    p.put("schema.registry.url", "http://127.0.0.1:8081/apis/ccompat/v7");
    return p;
  }

  @Test
  void aKeyTheTrainerDoesNotReadIsRefusedAndTheTwoWindowKeysAreNotBothGiven() {
    Map<String, String> p = required();
    p.put("max.epoch", "3");
    assertThatThrownBy(() -> TrainerConfig.from(p))
        .hasMessage(
            "unknown config key max.epoch (did you mean max.epochs?):"
                + " the trainer reads no such key");
    Map<String, String> both = required();
    both.put("data.days", "3");
    both.put("data.window.ms", "60000");
    assertThatThrownBy(() -> TrainerConfig.from(both))
        .hasMessage("give data.window.ms or data.days, not both");
    Map<String, String> known = required();
    known.put("kafka.security.protocol", "SSL");
    known.put("data.from", "2026-01-01T00:00:00Z");
    known.put("data.to", "2026-01-02T00:00:00Z");
    known.put("metrics.port", "0");
    assertThat(TrainerConfig.from(known).kafka()).containsEntry("security.protocol", "SSL");
  }

  /**
   * Every Kafka client of the trainer (the retrain listener, the registry's producer and readers,
   * the examples' consumer) waits up to 10 s between attempts at a broker that is away: at Kafka's
   * 1 s each wrote a "could not be established" WARN a second. A kafka.* key sets another.
   */
  @Test
  void itsKafkaClientsRetryABrokerAwayAtMostEveryTenSecondsUnlessAKafkaKeySaysOtherwise() {
    assertThat(TrainerConfig.from(required()).kafka())
        .containsEntry("reconnect.backoff.max.ms", 10_000);
    Map<String, String> p = required();
    p.put("kafka.reconnect.backoff.max.ms", "2000");
    assertThat(TrainerConfig.from(p).kafka()).containsEntry("reconnect.backoff.max.ms", "2000");
  }

  @Test
  void autoRegisterSchemasIsReadAndABadValueRefusedByName() {
    Map<String, String> p = required();
    assertThat(TrainerConfig.from(p).autoRegisterSchemas()).isTrue();
    p.put("auto.register.schemas", "false");
    assertThat(TrainerConfig.from(p).autoRegisterSchemas()).isFalse();
    p.put("auto.register.schemas", "0");
    assertThatThrownBy(() -> TrainerConfig.from(p))
        .hasMessageContaining("auto.register.schemas must be true or false");
  }

  @Test
  void theRegistrysRetriesAndCredentialsAreReadAndABadOneIsRefusedByName() {
    Map<String, String> p = required();
    p.put("schema.registry.max.retries", "7");
    p.put("schema.registry.retry.backoff.max.ms", "3000");
    p.put("schema.registry.request.timeout.ms", "1500");
    p.put("basic.auth.user.info", "app:secret");
    RegistryConfig r = TrainerConfig.from(p).registryConfig();
    assertThat(r.maxRetries()).isEqualTo(7);
    assertThat(r.maxBackoff()).hasMillis(3000);
    assertThat(r.requestTimeout()).hasMillis(1500);
    assertThat(r.basicAuthUserInfo()).isEqualTo("app:secret");
    assertThat(TrainerConfig.from(required()).registryConfig())
        .isEqualTo(RegistryConfig.of(p.get("schema.registry.url")));
    p.put("schema.registry.retry.backoff.ms", "-1");
    assertThatThrownBy(() -> TrainerConfig.from(p))
        .hasMessageContaining("schema.registry.retry.backoff.ms must be > 0");
    p.remove("schema.registry.retry.backoff.ms");
    p.remove("schema.registry.url");
    assertThatThrownBy(() -> TrainerConfig.from(p))
        .hasMessage("missing config schema.registry.url");
  }

  @Test
  void retryAttemptsAndBackoffAreReadAndBadOnesRefusedByName() {
    Map<String, String> p = required();
    assertThat(TrainerConfig.from(p).retrainAttempts()).isEqualTo(3);
    assertThat(TrainerConfig.from(p).retrainBackoff()).hasMillis(60_000);
    p.put("retrain.attempts", "1");
    p.put("retrain.retry.backoff.ms", "500");
    assertThat(TrainerConfig.from(p).retrainAttempts()).isEqualTo(1);
    assertThat(TrainerConfig.from(p).retrainBackoff()).hasMillis(500);
    p.put("retrain.attempts", "0");
    assertThatThrownBy(() -> TrainerConfig.from(p))
        .hasMessage("retrain.attempts must be within 1..2147483647, got 0");
    p.put("retrain.attempts", "2");
    p.put("retrain.retry.backoff.ms", "-5");
    assertThatThrownBy(() -> TrainerConfig.from(p))
        .hasMessage("retrain.retry.backoff.ms must be >= 0, got -5");
  }

  /**
   * The logistic baseline is listed nowhere as a choice, and refused as one like an unknown name.
   */
  @Test
  void architecturesNameOnlyWhatTheTrainerTrainsOnRequest() {
    for (String bad : new String[] {"logistic", "mlp,bogus"}) {
      Map<String, String> c = required();
      c.put("architectures", bad);
      assertThatThrownBy(() -> TrainerConfig.from(c))
          .as(bad)
          .hasMessageStartingWith("architectures: '")
          .hasMessageEndingWith(
              "' is not one the trainer trains on request: mlp or two_tower (the logistic"
                  + " baseline is always trained)");
    }
    Map<String, String> c = required();
    c.put("architectures", " two-tower , mlp");
    assertThat(TrainerConfig.from(c).architectures())
        .containsExactly(Architecture.TWO_TOWER, Architecture.MLP);
  }

  /** A properties file keeps trailing spaces: model.name=feed-ranker matched no model. */
  @Test
  void stringValuesAreReadWithoutSurroundingWhitespace() {
    Map<String, String> p = required();
    p.put("model.name", "feed-ranker ");
    p.put("training.examples.topic", " training-examples\t");
    TrainerConfig c = TrainerConfig.from(p);
    assertThat(c.modelName()).isEqualTo("feed-ranker");
    assertThat(c.examplesTopic()).isEqualTo("training-examples");
  }

  /** (int) of a long: min.examples=4294967396 became 100 and passed the >= 100 check. */
  @Test
  void anIntKeyOutOfTheIntRangeIsRefusedNamingTheKeyNotCut() {
    Map<String, String> p = required();
    p.put("min.examples", "4294967396");
    assertThatThrownBy(() -> TrainerConfig.from(p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("min.examples must be within 100..2147483647, got 4294967396");
    Map<String, String> batch = required();
    batch.put("batch.size", "4294968320"); // 2^32 + 1024
    assertThatThrownBy(() -> TrainerConfig.from(batch))
        .hasMessage("batch.size must be within 2..2147483647, got 4294968320");
    Map<String, String> port = required();
    port.put("metrics.port", "65536");
    assertThatThrownBy(() -> TrainerConfig.from(port))
        .hasMessage("metrics.port must be within 0..65535, got 65536");
    Map<String, String> ok = required();
    ok.put("min.examples", "2147483647");
    ok.put("max.examples", "2147483647"); // not below min.examples
    assertThat(TrainerConfig.from(ok).minExamples()).isEqualTo(Integer.MAX_VALUE);
  }

  /**
   * A batch of one row is skipped (BatchNorm needs two): with batch.size 1 every batch was, the
   * network kept its random weights, and it could be promoted. Refused, naming the key and why.
   */
  @Test
  void aBatchSizeBelowTwoIsRefusedNamingTheKeyAndWhy() {
    Map<String, String> p = required();
    assertThat(TrainerConfig.from(p).hyper().batchSize()).isEqualTo(1024);
    p.put("batch.size", "2");
    assertThat(TrainerConfig.from(p).hyper().batchSize()).isEqualTo(2);
    for (String bad : new String[] {"1", "0", "-5"}) {
      p.put("batch.size", bad);
      assertThatThrownBy(() -> TrainerConfig.from(p))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "batch.size must be >= 2, got "
                  + bad
                  + ": the networks' BatchNorm needs two rows a batch and skips a smaller one, so"
                  + " nothing would be trained");
    }
  }

  /**
   * The export check's tolerance is a positive, small number: NaN, 0 or a negative one failed every
   * run, saying the ONNX export disagreed with PyTorch; an infinite or huge one let any export
   * through.
   */
  @Test
  void exportVerifyToleranceIsPositiveAndSmallOrRefusedByName() {
    assertThat(TrainerConfig.from(required()).verifyTolerance()).isEqualTo(1e-5);
    Map<String, String> p = required();
    for (String ok : new String[] {"1e-7", "0.01"}) {
      p.put("export.verify.tolerance", ok);
      assertThat(TrainerConfig.from(p).verifyTolerance()).isEqualTo(Double.parseDouble(ok));
    }
    for (String bad : new String[] {"NaN", "-1e-5", "0", "Infinity", "0.5", "1e300"}) {
      p.put("export.verify.tolerance", bad);
      assertThatThrownBy(() -> TrainerConfig.from(p))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("export.verify.tolerance must be > 0 and at most 0.01 (")
          .hasMessageEndingWith(", got " + Double.parseDouble(bad));
    }
  }

  /**
   * The training's rates and weights are finite and within their bounds, refused naming the key: an
   * infinite learning rate or penalty was taken, and the run failed after reading its data as
   * "diverged ... a lower learning rate may help"; a NaN failed without the key.
   */
  @Test
  void ratesAndWeightsOutOfBoundsAreRefusedNamingTheKey() {
    Map<String, String> p = required();
    p.put("learning.rate", "0.003");
    p.put("dropout", "0");
    p.put("embedding.l2", "0");
    p.put("weight.decay", "1e-4");
    p.put("promote.min.auc.gain", "0.5");
    TrainerConfig ok = TrainerConfig.from(p);
    assertThat(ok.hyper().learningRate()).isEqualTo(0.003f);
    assertThat(ok.hyper().dropout()).isZero();
    assertThat(ok.hyper().weightDecay()).isEqualTo(1e-4f);
    String[][] cases = {
      {"learning.rate", "Infinity", "finite and > 0"},
      {"learning.rate", "1e39", "finite and > 0"},
      {"learning.rate", "0", "finite and > 0"},
      {"learning.rate", "NaN", "finite and > 0"},
      {"dropout", "1", "in [0, 1)"},
      {"dropout", "NaN", "in [0, 1)"},
      {"embedding.l2", "Infinity", "finite and >= 0"},
      {"embedding.l2", "-1e-6", "finite and >= 0"},
      {"weight.decay", "NaN", "finite and >= 0"},
    };
    for (String[] c : cases) {
      Map<String, String> q = required();
      q.put(c[0], c[1]);
      assertThatThrownBy(() -> TrainerConfig.from(q))
          .as(c[0] + "=" + c[1])
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(c[0] + " must be " + c[2] + ", got " + c[1]);
    }
    for (String bad : new String[] {"Infinity", "NaN", "0"}) {
      Map<String, String> q = required();
      q.put("promote.min.auc.gain", bad);
      assertThatThrownBy(() -> TrainerConfig.from(q))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "promote.min.auc.gain must be finite and > 0, got " + Double.parseDouble(bad));
    }
  }

  /**
   * What a run holds: max.examples, a million unless given, never below min.examples (every run
   * would be refused for holding too few).
   */
  @Test
  void maxExamplesIsAMillionUnlessGivenAndNotBelowMinExamples() {
    assertThat(TrainerConfig.from(required()).maxExamples()).isEqualTo(1_000_000);
    Map<String, String> p = required();
    p.put("max.examples", "20000");
    assertThat(TrainerConfig.from(p).maxExamples()).isEqualTo(20_000);
    p.put("min.examples", "30000");
    assertThatThrownBy(() -> TrainerConfig.from(p))
        .hasMessage("max.examples must be >= min.examples (30000), got 20000");
    p.put("max.examples", "99");
    assertThatThrownBy(() -> TrainerConfig.from(p))
        .hasMessage("max.examples must be within 100..2147483647, got 99");
  }

  /** --days 0 failed only after a Kafka producer started, with a message naming no key. */
  @Test
  void theDefaultRangeIsAtLeastADayOrAMillisecondCheckedWithTheConfig() {
    Map<String, String> days = required();
    days.put("data.days", "0");
    assertThatThrownBy(() -> TrainerConfig.from(days))
        .hasMessage("data.days must be within 1..2147483647, got 0");
    Map<String, String> window = required();
    window.put("data.window.ms", "-5");
    assertThatThrownBy(() -> TrainerConfig.from(window))
        .hasMessage("data.window.ms must be within 1..9223372036854775807, got -5");
    window.put("data.window.ms", "60000");
    assertThat(TrainerConfig.from(window).dataWindow()).hasMillis(60_000);
    days.put("data.days", "2");
    assertThat(TrainerConfig.from(days).dataWindow()).hasDays(2);
  }

  /**
   * Every model's trainer had the one default group, in which whichever listener read the partition
   * committed past the other models' commands: they never ran.
   */
  @Test
  void theListenGroupIsOneOfTheModelsOwnUnlessGiven() {
    Map<String, String> p = required();
    assertThat(TrainerConfig.from(p).listenGroupId()).isEqualTo("feedrank-trainer-feed-ranker");
    p.put("model.name", "feed-ranker-eu");
    assertThat(TrainerConfig.from(p).listenGroupId()).isEqualTo("feedrank-trainer-feed-ranker-eu");
    p.put("listen.group.id", "feedrank-trainer");
    assertThat(TrainerConfig.from(p).listenGroupId()).isEqualTo("feedrank-trainer");
  }

  /**
   * How much of production's artifact is read to compare a candidate with it: the ranker's key and
   * default, so that a trainer beside rankers that load larger models is given their bound.
   */
  @Test
  void theArtifactBoundIsTheRankersDefaultUnlessGivenAndRefusedOutOfRangeByName() {
    Map<String, String> p = required();
    assertThat(TrainerConfig.from(p).modelArtifactMaxBytes()).isEqualTo(256 * 1024 * 1024);
    p.put("model.artifact.max.bytes", "1073741824");
    assertThat(TrainerConfig.from(p).modelArtifactMaxBytes()).isEqualTo(1 << 30);
    for (String bad : new String[] {"0", "2147483647", "-5"}) {
      p.put("model.artifact.max.bytes", bad);
      assertThatThrownBy(() -> TrainerConfig.from(p))
          .as(bad)
          .hasMessageContaining("model.artifact.max.bytes");
    }
  }

  /** kafka.bootstrap.servers and kafka.group.id were silently ignored: the trainer's own won. */
  @Test
  void aKafkaKeyRepeatingOneOfTheTrainersOwnIsRefusedNamingBoth() {
    Map<String, String> p = required();
    p.put("kafka.group.id", "hijack");
    assertThatThrownBy(() -> TrainerConfig.from(p))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "kafka.group.id duplicates listen.group.id, which the trainer sets itself:"
                + " give listen.group.id only");
    Map<String, String> servers = required();
    servers.put("kafka.bootstrap.servers", "elsewhere:9092");
    assertThatThrownBy(() -> TrainerConfig.from(servers))
        .hasMessageStartingWith("kafka.bootstrap.servers duplicates bootstrap.servers, ");
    Map<String, String> batch = required();
    batch.put("kafka.batch.size", "65536"); // the producer's, not the trainer's batch.size
    assertThat(TrainerConfig.from(batch).kafka()).containsEntry("batch.size", "65536");
  }
}
