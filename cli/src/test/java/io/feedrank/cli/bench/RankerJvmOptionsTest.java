package io.feedrank.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The ranker's JVM options live in three places: {@code ./feedrank ranker}, the benchmark's ranker
 * ({@link RankerProcess#JVM_OPTIONS}) and the Kubernetes Deployment (its {@code JAVA_TOOL_OPTIONS}
 * and the image's entry point). They are measured in one and deployed by the others, so they must
 * not drift apart.
 */
class RankerJvmOptionsTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  /** The options {@code ./feedrank ranker} starts the JVM with when none are given. */
  static List<String> launcherOptions() throws Exception {
    String script = Files.readString(ROOT.resolve("feedrank"));
    Matcher m = Pattern.compile("\"ranker \"\\*\\)\\s+DEFAULT_OPTS=\"([^\"]*)\"").matcher(script);
    assertThat(m.find()).as("the ranker's case in ./feedrank").isTrue();
    return Arrays.asList(m.group(1).trim().split("\\s+"));
  }

  @Test
  void theBenchmarksRankerRunsWithTheLaunchersOptions() throws Exception {
    assertThat(RankerProcess.JVM_OPTIONS).containsExactlyElementsOf(launcherOptions());
  }

  /**
   * In the container the heap is a share of the pod's memory rather than a size, but it is fixed
   * all the same (initial = maximum, pretouched), and every other option of the launcher is there,
   * from {@code JAVA_TOOL_OPTIONS} or the image's entry point.
   */
  @Test
  void theKubernetesRankerRunsWithTheLaunchersOptions() throws Exception {
    JsonNode container = null;
    Iterator<JsonNode> docs =
        new ObjectMapper(new YAMLFactory())
            .readerFor(JsonNode.class)
            .readValues(ROOT.resolve("infra/k8s/ranker.yaml").toFile());
    while (docs.hasNext()) {
      JsonNode d = docs.next();
      if (d != null
          && d.path("kind").asText().equals("Deployment")
          && d.at("/metadata/name").asText().equals("ranker")) {
        container = d.at("/spec/template/spec/containers/0");
      }
    }
    assertThat(container).as("the ranker's Deployment").isNotNull();
    String toolOptions = null;
    for (JsonNode e : container.path("env")) {
      if (e.path("name").asText().equals("JAVA_TOOL_OPTIONS")) {
        toolOptions = e.path("value").asText();
      }
    }
    assertThat(toolOptions).as("the ranker's JAVA_TOOL_OPTIONS").isNotNull();
    Set<String> inContainer = new HashSet<>(Arrays.asList(toolOptions.trim().split("\\s+")));
    inContainer.addAll(entryPointOptions());

    List<String> expected = new ArrayList<>();
    for (String o : launcherOptions()) {
      if (!o.startsWith("-Xms") && !o.startsWith("-Xmx")) {
        expected.add(o);
      }
    }
    assertThat(inContainer).containsAll(expected);
    assertThat(percent(inContainer, "-XX:InitialRAMPercentage="))
        .isEqualTo(percent(inContainer, "-XX:MaxRAMPercentage="));
  }

  /** The options of the image's {@code ENTRYPOINT ["java", ...]} before the class path. */
  private static List<String> entryPointOptions() throws Exception {
    String line =
        Files.readAllLines(ROOT.resolve("Dockerfile")).stream()
            .filter(l -> l.startsWith("ENTRYPOINT"))
            .findFirst()
            .orElseThrow();
    JsonNode args = new ObjectMapper().readTree(line.substring("ENTRYPOINT".length()));
    List<String> out = new ArrayList<>();
    for (JsonNode a : args) {
      if (a.asText().equals("-cp")) {
        break;
      }
      if (a.asText().startsWith("-")) {
        out.add(a.asText());
      }
    }
    return out;
  }

  private static String percent(Set<String> options, String prefix) {
    List<String> v =
        options.stream()
            .filter(o -> o.startsWith(prefix))
            .map(o -> o.substring(prefix.length()))
            .collect(Collectors.toList());
    assertThat(v).as(prefix).hasSize(1);
    return v.get(0);
  }
}
