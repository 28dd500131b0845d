package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every JVM of a feedrank service ends on an OutOfMemoryError ({@code -XX:+ExitOnOutOfMemoryError},
 * exit code 3), for what runs it to restart it: the JVMs {@code ./feedrank} starts, whatever their
 * options; those of the {@code app} image, which every Kubernetes workload and compose service of
 * it runs through the image's entry point; and the drift job's on Kubernetes. Without it a service
 * ran on after an OutOfMemoryError with some of its threads dead, its process and ports alive.
 */
class ExitOnOutOfMemoryTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  static final String EXIT_ON_OOM = "-XX:+ExitOnOutOfMemoryError";

  @TempDir Path root;

  @Test
  void theLauncherStartsEveryJvmWithItWhateverTheOptions() throws Exception {
    launcherCheckout(root);
    for (String command : List.of("streams", "ranker", "demo")) {
      assertThat(javaArgs(root, Map.of(), command)).as(command).contains(EXIT_ON_OOM);
    }
    // options of one's own replace the defaults, not this; and a later option could still turn it
    // off, so it comes first
    List<String> own = javaArgs(root, Map.of("FEEDRANK_JAVA_OPTS", "-Xmx1g"), "streams");
    assertThat(own).containsSubsequence(EXIT_ON_OOM, "-Xmx1g");
  }

  @Test
  void theImagesEntryPointHasItAndNoWorkloadReplacesTheEntryPoint() throws Exception {
    String line =
        Files.readAllLines(ROOT.resolve("Dockerfile")).stream()
            .filter(l -> l.startsWith("ENTRYPOINT"))
            .findFirst()
            .orElseThrow();
    List<String> entryPoint = new ArrayList<>();
    new ObjectMapper()
        .readTree(line.substring("ENTRYPOINT".length()))
        .forEach(a -> entryPoint.add(a.asText()));
    assertThat(entryPoint.subList(0, entryPoint.indexOf("-cp"))).contains(EXIT_ON_OOM);

    int appContainers = 0;
    for (JsonNode d : KubernetesManifestsTest.documents()) {
      for (JsonNode c : d.findValues("containers")) {
        for (JsonNode container : c) {
          if (container.path("image").asText().startsWith("feedrank/app:")) {
            appContainers++;
            assertThat(container.has("command"))
                .as(d.at("/metadata/name").asText() + " keeps the image's entry point")
                .isFalse();
            assertThat(container.toString()).doesNotContain("-XX:-ExitOnOutOfMemoryError");
          }
        }
      }
    }
    assertThat(appContainers).as("app containers in infra/k8s").isEqualTo(6);
    JsonNode flink =
        KubernetesManifestsTest.documents().stream()
            .filter(d -> d.path("kind").asText().equals("FlinkDeployment"))
            .findFirst()
            .orElseThrow()
            .at("/spec/podTemplate/spec/containers/0");
    assertThat(flink.path("name").asText()).isEqualTo("flink-main-container");
    String flinkToolOptions = "";
    for (JsonNode e : flink.path("env")) {
      if (e.path("name").asText().equals("JAVA_TOOL_OPTIONS")) {
        flinkToolOptions = e.path("value").asText();
      }
    }
    assertThat(flinkToolOptions.split("\\s+")).as("the Flink JVMs' options").contains(EXIT_ON_OOM);
    int appServices = 0;
    JsonNode compose =
        KubernetesManifestsTest.YAML.readTree(ROOT.resolve("docker-compose.yml").toFile());
    for (JsonNode service : compose.path("services")) {
      if (service.path("image").asText().startsWith("feedrank/app:")) {
        appServices++;
        assertThat(service.has("entrypoint"))
            .as(service + " keeps the image's entry point")
            .isFalse();
        assertThat(service.toString()).doesNotContain("-XX:-ExitOnOutOfMemoryError");
      }
    }
    assertThat(appServices).as("app services in docker-compose.yml").isEqualTo(3);
  }

  /**
   * A copy of the launcher in {@code root} with a build it takes as up to date, and a {@code java}
   * that notes its arguments (and says it is a 17 when asked).
   */
  static void launcherCheckout(Path root) throws Exception {
    Files.copy(ROOT.resolve("feedrank"), root.resolve("feedrank"));
    Files.createDirectories(root.resolve("cli/target/classes"));
    Files.writeString(
        root.resolve("cli/target/feedrank.classpath"),
        root.resolve("cli/target/classes").toString());
    script(root.resolve("mvnw"), "echo 'no build expected' >&2", "exit 99");
    script(
        root.resolve("jdk/bin/java"),
        "[[ $1 == -version ]] && { echo 'openjdk version \"17.0.15\" 2025-04-15' >&2; exit 0; }",
        "printf '%s\\n' \"$@\" > \"$(dirname \"$0\")/../../java.args\"");
    Path stamp = Files.createDirectories(root.resolve("target")).resolve(".feedrank-built");
    Files.writeString(stamp, "");
    // newer than every file the launcher compares it with
    Files.setLastModifiedTime(stamp, FileTime.from(Instant.now().plusSeconds(60)));
  }

  /**
   * The arguments {@code ./feedrank args} starts java with, in {@code env}, from the {@link
   * #launcherCheckout} in {@code root}.
   */
  static List<String> javaArgs(Path root, Map<String, String> env, String... args)
      throws Exception {
    Files.deleteIfExists(root.resolve("java.args"));
    List<String> command = new ArrayList<>(List.of("bash", root.resolve("feedrank").toString()));
    command.addAll(List.of(args));
    ProcessBuilder launcher =
        new ProcessBuilder(command)
            .directory(root.toFile())
            .redirectErrorStream(true)
            .redirectOutput(root.resolve("out.txt").toFile());
    launcher.environment().remove("FEEDRANK_JAVA_OPTS");
    launcher.environment().put("JAVA_HOME", root.resolve("jdk").toString());
    launcher.environment().putAll(env);
    Process started = launcher.start();
    assertThat(started.waitFor(60, TimeUnit.SECONDS)).as("the launcher ended").isTrue();
    assertThat(started.exitValue()).as(Files.readString(root.resolve("out.txt"))).isZero();
    return Files.readAllLines(root.resolve("java.args"));
  }

  private static void script(Path file, String... lines) throws Exception {
    Files.createDirectories(file.getParent());
    Files.writeString(file, "#!/usr/bin/env bash\n" + String.join("\n", lines) + "\n");
    assertThat(file.toFile().setExecutable(true)).isTrue();
  }
}
