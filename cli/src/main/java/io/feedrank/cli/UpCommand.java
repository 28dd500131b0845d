package io.feedrank.cli;

import io.feedrank.localstack.LocalStack;
import io.feedrank.localstack.Ports;
import io.feedrank.simulator.InteractionSimulator;
import io.feedrank.simulator.SimulatorConfig;
import io.feedrank.simulator.SimulatorPublisher;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ./feedrank up}: the local stack, kept running until Ctrl-C. */
@Command(
    name = "up",
    mixinStandardHelpOptions = true,
    description = {
      "Start the local stack (real Kafka in KRaft mode, Redis, Apicurio Registry; all on 127.0.0.1),",
      "create every topic, register every schema, print the endpoints and keep running until Ctrl-C.",
      "Preferred ports are used when free, else random ones."
    })
final class UpCommand implements Runnable {
  @Spec CommandSpec spec;

  @Option(
      names = "--kafka-port",
      defaultValue = "9092",
      description = "preferred Kafka port (default ${DEFAULT-VALUE})")
  int kafkaPort;

  @Option(
      names = "--redis-port",
      defaultValue = "6379",
      description = "preferred Redis port (default ${DEFAULT-VALUE})")
  int redisPort;

  @Option(
      names = "--registry-port",
      defaultValue = "8081",
      description = "preferred registry port (default ${DEFAULT-VALUE})")
  int registryPort;

  @Option(
      names = "--partitions",
      defaultValue = "0",
      description = "partitions of multi-partition topics (0 = DESIGN defaults)")
  int partitions;

  @Option(
      names = "--dir",
      description = "state directory (default: a fresh temporary one, deleted on exit)")
  Path dir;

  @Option(
      names = "--simulate-rate",
      defaultValue = "0",
      description = "also play producers at this many events/s in real time (0 = off, the default)")
  double simulateRate;

  @Option(
      names = "--seed",
      defaultValue = "1",
      description = "simulator seed (default ${DEFAULT-VALUE})")
  long seed;

  @Override
  public void run() {
    PrintWriter out = spec.commandLine().getOut();
    LocalStack.Builder b =
        LocalStack.builder()
            .kafkaPort(preferred(kafkaPort))
            .redisPort(preferred(redisPort))
            .registryPort(preferred(registryPort))
            .partitions(partitions);
    if (dir != null) {
      b.workDir(dir).deleteOnClose(false);
    }
    out.println("feedrank up: starting Kafka, Redis and the schema registry ...");
    out.flush();
    LocalStack stack = b.build().start();
    Endpoints endpoints =
        new Endpoints(stack.bootstrapServers(), stack.registryUrl(), null, stack.redisUri());
    Endpoints.writeUpState(System.getenv(), endpoints, ProcessHandle.current().pid());

    CountDownLatch stopped = new CountDownLatch(1);
    AtomicBoolean stopping = new AtomicBoolean();
    Thread simulator = simulateRate > 0 ? startSimulator(endpoints, stopping) : null;
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stopping.set(true);
                  if (simulator != null) {
                    simulator.interrupt();
                  }
                  Endpoints.clearUpState(System.getenv());
                  stack.close();
                  stopped.countDown();
                },
                "feedrank-up-shutdown"));

    out.printf("%nfeedrank local stack is up in %.1f s%n", stack.startupTime().toMillis() / 1000.0);
    out.printf("  Kafka (KRaft)        %s%n", stack.bootstrapServers());
    out.printf(
        "  Schema registry      %s   (Confluent API; Apicurio UI API at /apis/registry/v3)%n",
        stack.registryUrl());
    out.printf("  Redis                %s%n", stack.redisUri());
    out.printf(
        "  Topics               %s%n",
        String.join(
            ", ",
            stack.topics().stream().map(t -> t.name() + "(" + t.partitions() + ")").toList()));
    out.printf("  State directory      %s%n", stack.workDir());
    if (simulator != null) {
      out.printf("  Simulator            %.0f events/s, real time, seed %d%n", simulateRate, seed);
    }
    out.printf(
        "%nOther commands find this stack by themselves (e.g. ./feedrank simulate --count 10000).%n");
    out.println("Press Ctrl-C to stop.");
    out.flush();
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private Thread startSimulator(Endpoints endpoints, AtomicBoolean stopping) {
    Thread t =
        new Thread(
            () -> {
              SimulatorConfig config =
                  SimulatorConfig.defaults(seed, Instant.now()).withRealTime(true);
              try (SimulatorPublisher p =
                  new SimulatorPublisher(
                      endpoints.clientConfig(), SimulatorPublisher.TopicNames.defaults())) {
                p.publish(
                    new InteractionSimulator(config),
                    new SimulatorPublisher.Run(
                        0, java.time.Duration.ofDays(365), simulateRate, true),
                    () -> stopping.get() || Thread.currentThread().isInterrupted());
              } catch (RuntimeException e) {
                if (!stopping.get()) {
                  spec.commandLine()
                      .getErr()
                      .println("feedrank up: simulator stopped: " + e.getMessage());
                }
              }
            },
            "feedrank-up-simulator");
    t.setDaemon(true);
    t.start();
    return t;
  }

  private static int preferred(int port) {
    return port > 0 && !Ports.isListening(port) ? port : 0;
  }
}
