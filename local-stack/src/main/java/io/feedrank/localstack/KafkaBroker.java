package io.feedrank.localstack;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One real Kafka node in KRaft combined mode (broker + controller) in this JVM: Kafka's own {@link
 * KafkaRaftServer}, formatted with Kafka's {@link Formatter}, both listeners on 127.0.0.1.
 *
 * <p>Why not {@code KafkaClusterTestKit}: it pre-binds its listener sockets on the wildcard address
 * ({@code new InetSocketAddress(0)}), and every listener of the local stack must bind to 127.0.0.1
 * only. Its single-node settings are kept: replication factor 1 and min ISR 1 for the offsets,
 * transaction-state and share-coordinator topics, no initial rebalance delay, the latest production
 * metadata version.
 */
final class KafkaBroker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KafkaBroker.class);
  static final int NODE_ID = 1;

  private final Path dataDir;
  private final int brokerPort;
  private final int controllerPort;
  private final Map<String, String> overrides;
  private KafkaRaftServer server;

  KafkaBroker(Path dataDir, int brokerPort, Map<String, String> overrides) {
    this.dataDir = dataDir;
    this.brokerPort = Ports.orFree(brokerPort);
    this.controllerPort = Ports.freePort();
    this.overrides = Map.copyOf(overrides);
  }

  String bootstrapServers() {
    return Ports.LOOPBACK + ":" + brokerPort;
  }

  int port() {
    return brokerPort;
  }

  int controllerPort() {
    return controllerPort;
  }

  void start(Duration timeout) throws Exception {
    Path logDir = Files.createDirectories(dataDir.resolve("kafka-logs"));
    Map<String, Object> props = config(logDir);
    KafkaConfig config = new KafkaConfig(props, false);
    format(logDir, config);
    server = new KafkaRaftServer(config, Time.SYSTEM);
    server.startup();
    awaitReady(timeout);
    log.info(
        "local-stack: Kafka {} ready (KRaft, controller 127.0.0.1:{})",
        bootstrapServers(),
        controllerPort);
  }

  private Map<String, Object> config(Path logDir) {
    Map<String, Object> p = new HashMap<>();
    p.put("process.roles", "broker,controller");
    p.put("node.id", Integer.toString(NODE_ID));
    p.put("controller.quorum.voters", NODE_ID + "@" + Ports.LOOPBACK + ":" + controllerPort);
    p.put(
        "listeners",
        "PLAINTEXT://"
            + Ports.LOOPBACK
            + ":"
            + brokerPort
            + ",CONTROLLER://"
            + Ports.LOOPBACK
            + ":"
            + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://" + Ports.LOOPBACK + ":" + brokerPort);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", logDir.toString());
    p.put("num.partitions", "1");
    p.put("auto.create.topics.enable", "false");
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "6");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "6");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    // event time may be simulated far from wall time: never delete or refuse by timestamp
    p.put("log.retention.ms", "-1");
    p.put("log.message.timestamp.before.max.ms", Long.toString(Long.MAX_VALUE));
    p.put("log.message.timestamp.after.max.ms", Long.toString(Long.MAX_VALUE));
    p.put("log.cleaner.dedupe.buffer.size", Integer.toString(2 * 1024 * 1024));
    p.put("server.max.startup.time.ms", Long.toString(TimeUnit.MINUTES.toMillis(2)));
    p.putAll(overrides);
    return p;
  }

  private static void format(Path logDir, KafkaConfig config) throws Exception {
    Formatter formatter = new Formatter();
    formatter.setPrintStream(new PrintStream(OutputStream.nullOutputStream()));
    formatter.setNodeId(NODE_ID);
    formatter.setClusterId(Uuid.randomUuid().toString());
    formatter.setDirectories(Set.of(logDir.toString()));
    formatter.setMetadataLogDirectory(config.metadataLogDir());
    formatter.setReleaseVersion(MetadataVersion.latestProduction());
    formatter.setControllerListenerName("CONTROLLER");
    formatter.setIgnoreFormatted(false);
    formatter.run();
  }

  private void awaitReady(Duration timeout) throws Exception {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
    try (Admin admin = Admin.create(props)) {
      long deadline = System.nanoTime() + timeout.toNanos();
      Exception last = null;
      while (System.nanoTime() < deadline) {
        try {
          if (!admin.describeCluster().nodes().get(2, TimeUnit.SECONDS).isEmpty()) {
            return;
          }
        } catch (ExecutionException | TimeoutException e) {
          last = e;
        }
        Thread.sleep(50); // InterruptedException propagates: start() stops what it started
      }
      throw new IOException(
          "Kafka at " + bootstrapServers() + " not ready within " + timeout, last);
    }
  }

  @Override
  public void close() {
    if (server != null) {
      server.shutdown();
      server.awaitShutdown();
      server = null;
    }
  }
}
