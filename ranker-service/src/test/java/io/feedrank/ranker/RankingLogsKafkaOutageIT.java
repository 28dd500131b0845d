package io.feedrank.ranker;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.feedrank.events.ModelStage;
import io.feedrank.events.RankingLog;
import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.Ports;
import io.feedrank.localstack.TcpGate;
import io.feedrank.ranker.logging.RankingLogger;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.LoggerFactory;

/**
 * The ranker's ranking logs while Kafka is cut off: a stack of the class's own whose broker
 * advertises a {@link TcpGate} in front of it, so that every connection of the ranker's Kafka
 * clients, after the bootstrap one too, goes through the gate; shut, it resets them all and refuses
 * new ones. Every response's log is either on {@code ranking-logs} or counted ({@code
 * ranker.log.drops}, {@code ranker.log.failures}) and said in the log; an outage shorter than the
 * producer's {@code delivery.timeout.ms} loses none.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RankingLogsKafkaOutageIT {
  /** Requests answered while the gate is shut. */
  static final int DURING = 30;

  private static final Pattern REPORTED =
      Pattern.compile("^ranker: (\\d+) ranking log\\(s\\) not written since the last such line");

  TcpGate gate;
  LocalStack stack;

  @BeforeAll
  void startStackBehindAGate() throws Exception {
    int kafkaPort = Ports.freePort();
    gate = new TcpGate(Ports.LOOPBACK, kafkaPort);
    stack =
        LocalStack.builder()
            .kafkaPort(kafkaPort)
            .brokerConfig(
                "advertised.listeners", "PLAINTEXT://" + Ports.LOOPBACK + ":" + gate.port())
            .build()
            .start();
  }

  @AfterAll
  void stop() throws Exception {
    try {
      if (stack != null) {
        stack.close();
      }
    } finally {
      if (gate != null) {
        gate.close();
      }
    }
  }

  /**
   * Thirty responses while Kafka is away, their logs handed to the producer during the outage, all
   * on the topic once it is back, none counted as dropped or failed. The producer used to forget
   * the topic's partitions a second or so after no broker answered (it rebootstrapped), so each
   * later send waited {@code max.block.ms} for them and failed: 20 of the 30 here.
   */
  @Test
  void anOutageShorterThanTheDeliveryTimeoutLosesNoRankingLog() throws Exception {
    RankerHarness h = new RankerHarness(stack);
    h.publish("v1", ModelStage.PRODUCTION, "mlp", TestModels.mlp(4).onnx());
    Map<String, String> config = behindTheGate(h);
    config.put("kafka.delivery.timeout.ms", "60000");
    List<String> ids = new ArrayList<>();
    try (RankerApp app = Main.start(config)) {
      RankerIT.awaitServing(app, "v1");
      rank(h, app, ids, "before");
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> count(app, "sent") == 1);

      try {
        rankThroughAnOutage(h, app, ids);
        // and lasts until every log has left the logger's queue for the producer
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> queued(app) == 0);
      } finally {
        gate.open();
      }
      rank(h, app, ids, "after");
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> accountedFor(app) == DURING + 2);
      assertThat(count(app, "failures")).as("logs that failed").isZero();
      assertThat(count(app, "drops")).as("logs dropped").isZero();
    }
    assertThat(keysOnTheTopic(h.modelName)).containsExactlyInAnyOrderElementsOf(ids);
  }

  /**
   * An outage longer than the delivery timeout (2 s here): the logs of the responses in it expire
   * in the producer, each counted as a failure, and the log's lines say every log not written by
   * the time the ranker has stopped (the lines after the first used to wait for a failure a minute
   * later). The topic holds every log counted as sent, once, and no other.
   */
  @Test
  void anOutageLongerThanTheDeliveryTimeoutCountsAndSaysEveryLogItCosts() throws Exception {
    RankerHarness h = new RankerHarness(stack);
    h.publish("v1", ModelStage.PRODUCTION, "mlp", TestModels.mlp(4).onnx());
    Map<String, String> config = behindTheGate(h);
    config.put("kafka.request.timeout.ms", "1000");
    config.put("kafka.delivery.timeout.ms", "2000");
    Logger logger = (Logger) LoggerFactory.getLogger(RankingLogger.class);
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    logger.addAppender(logs);
    List<String> ids = new ArrayList<>();
    double sent;
    double notWritten;
    try {
      try (RankerApp app = Main.start(config)) {
        RankerIT.awaitServing(app, "v1");
        rank(h, app, ids, "before");
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> count(app, "sent") == 1);

        try {
          rankThroughAnOutage(h, app, ids);
          // the outage outlasts the delivery timeout of every log in it
          Awaitility.await()
              .atMost(Duration.ofSeconds(60))
              .until(() -> count(app, "failures") + count(app, "drops") == DURING);
        } finally {
          gate.open();
        }
        rank(h, app, ids, "after");
        Awaitility.await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> accountedFor(app) == DURING + 2);
        sent = count(app, "sent");
        notWritten = count(app, "failures") + count(app, "drops");
      }
    } finally {
      logger.detachAppender(logs);
    }
    long said = 0;
    for (ILoggingEvent e : logs.list) {
      Matcher m = REPORTED.matcher(e.getFormattedMessage());
      if (e.getLevel() == Level.WARN && m.find()) {
        said += Long.parseLong(m.group(1));
      }
    }
    assertThat(said).as("ranking logs said in the log as not written").isEqualTo((long) notWritten);
    List<String> keys = keysOnTheTopic(h.modelName);
    assertThat(keys).doesNotHaveDuplicates().hasSize((int) sent).contains(ids.get(0));
    assertThat(ids).containsAll(keys);
  }

  /**
   * Shuts the gate and ranks {@link #DURING} requests while it is shut, the next each time a
   * client's attempt to reconnect has been refused: an outage of several seconds, the ranker's
   * Kafka clients trying throughout. The caller opens the gate.
   */
  void rankThroughAnOutage(RankerHarness h, RankerApp app, List<String> ids) throws Exception {
    gate.shut();
    for (int i = 0; i < DURING; i++) {
      int refused = gate.refused();
      rank(h, app, ids, "during-" + i);
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> gate.refused() > refused);
    }
  }

  /** The ranker's config with its Kafka clients bootstrapped through the gate. */
  Map<String, String> behindTheGate(RankerHarness h) {
    Map<String, String> config = h.config();
    config.put("bootstrap.servers", Ports.LOOPBACK + ":" + gate.port());
    // back promptly once the gate opens (the ranker's default waits up to 10 s between attempts)
    config.put("kafka.reconnect.backoff.max.ms", "500");
    // a send waiting for metadata gives up in half a second rather than the ranker's 2 s
    config.put("kafka.max.block.ms", "500");
    return config;
  }

  /** Ranks a few items for a user; returns the request id, added to {@code ids}. */
  static String rank(RankerHarness h, RankerApp app, List<String> ids, String name)
      throws Exception {
    String id = h.modelName + "-" + name;
    HttpResponse<String> r =
        h.rank(
            app.port(), RankerHarness.body(1, new long[] {1, 2, 3}, Instant.now(), "mobile", id));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    ids.add(id);
    return id;
  }

  static double count(RankerApp app, String counter) {
    return app.metrics().get("ranker.log." + counter).counter().count();
  }

  static double accountedFor(RankerApp app) {
    return count(app, "sent") + count(app, "drops") + count(app, "failures");
  }

  /** The request ids of this model's records on {@code ranking-logs}, each partition to its end. */
  List<String> keysOnTheTopic(String model) {
    List<String> keys = new ArrayList<>();
    try (KafkaConsumer<String, RankingLog> consumer = RankerIT.logsFromTheStart(stack)) {
      List<TopicPartition> parts = new ArrayList<>(consumer.assignment());
      Map<TopicPartition, Long> end = consumer.endOffsets(parts);
      Awaitility.await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                for (ConsumerRecord<String, RankingLog> r : consumer.poll(Duration.ofMillis(100))) {
                  if (r.value().getModelName().toString().equals(model)) {
                    keys.add(r.key());
                  }
                }
                return parts.stream().allMatch(p -> consumer.position(p) >= end.get(p));
              });
    }
    return keys;
  }

  static double queued(RankerApp app) {
    return app.metrics().get("ranker.log.queue.size").gauge().value();
  }
}
