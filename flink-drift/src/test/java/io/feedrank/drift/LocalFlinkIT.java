package io.feedrank.drift;

import static org.assertj.core.api.Assertions.assertThat;

import io.feedrank.localstack.LoopbackCheck;
import java.util.HashSet;
import java.util.Set;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.junit.jupiter.api.Test;

/**
 * A MiniCluster in this process ({@code ./feedrank drift}, {@code up}, the demo, the drift
 * benchmark, the tests) opens listeners: with {@link LocalFlink#loopback} every one is on
 * 127.0.0.1, while Flink's defaults put some on every interface.
 */
class LocalFlinkIT {
  @Test
  void aMiniClusterWithTheLoopbackConfigurationListensOnLoopbackOnly() throws Exception {
    Set<String> opened = listenersOpenedBy(LocalFlink.loopback());
    assertThat(opened)
        .isNotEmpty()
        .allSatisfy(
            s -> assertThat(s.substring(0, s.lastIndexOf(':'))).isIn(LoopbackCheck.LOOPBACK));
  }

  /** Why the configuration is needed: without it, some listener is open to the network. */
  @Test
  void flinksDefaultsListenOnEveryInterface() throws Exception {
    Set<String> opened = listenersOpenedBy(new Configuration());
    assertThat(opened)
        .anySatisfy(
            s -> assertThat(s.substring(0, s.lastIndexOf(':'))).isNotIn(LoopbackCheck.LOOPBACK));
  }

  /**
   * The LISTEN sockets this process holds while a MiniCluster of {@code c} runs, and not before.
   */
  private static Set<String> listenersOpenedBy(Configuration c) throws Exception {
    long pid = ProcessHandle.current().pid();
    Set<String> before = LoopbackCheck.listeningSocketsOfProcess(pid);
    // the REST endpoint on a free port, not Flink's 8081, which `./feedrank up`'s registry or
    // `docker compose up` may hold: what is checked is the address, not the port
    c = new Configuration(c);
    c.setString("rest.bind-port", "0");
    MiniClusterConfiguration config =
        new MiniClusterConfiguration.Builder()
            .setConfiguration(c)
            .setNumTaskManagers(1)
            .setNumSlotsPerTaskManager(1)
            .build();
    Set<String> opened;
    try (MiniCluster cluster = new MiniCluster(config)) {
      cluster.start();
      opened = new HashSet<>(LoopbackCheck.listeningSocketsOfProcess(pid));
    }
    opened.removeAll(before);
    return opened;
  }
}
