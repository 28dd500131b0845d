package io.feedrank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./feedrank loadtest} builds loadtest and the modules it uses in one Maven run, installing
 * nothing into ~/.m2, and runs Gatling on the test classpath that run wrote, where feedrank's
 * modules are this checkout's. The launcher runs here as it is, from a copy of the checkout's root
 * whose {@code mvnw} and {@code java} only note what they are asked.
 */
class LoadtestLauncherTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @TempDir Path root;

  @Test
  void oneMavenRunBuildsTheClasspathAndGatlingRunsOnIt() throws Exception {
    Files.copy(ROOT.resolve("feedrank"), root.resolve("feedrank"));
    // Maven: notes its arguments (one line each, a blank line after a run) and writes the
    // classpath file it is asked for, as dependency:build-classpath does
    script(
        root.resolve("mvnw"),
        "printf '%s\\n' \"$@\" '' >> \"$(dirname \"$0\")/mvnw.calls\"",
        "for a in \"$@\"; do",
        "  case \"$a\" in",
        "    -Dmdep.outputFile=*) f=\"${a#*=}\"; mkdir -p \"$(dirname \"$f\")\";",
        "      printf '/m2/gatling-app.jar:/checkout/ranker-service/target/classes' > \"$f\" ;;",
        "  esac",
        "done");
    // java: says it is a 17 when asked (the launcher's version check), else notes its arguments
    // and the argfile's lines
    script(
        root.resolve("jdk/bin/java"),
        "[[ $1 == -version ]] && { echo 'openjdk version \"17.0.15\" 2025-04-15' >&2; exit 0; }",
        "d=\"$(dirname \"$0\")/../..\"",
        "printf '%s\\n' \"$@\" > \"$d/java.args\"",
        "for a in \"$@\"; do [[ $a == @* ]] && cat \"${a#@}\" > \"$d/java.argfile\"; done",
        "true");

    ProcessBuilder launcher =
        new ProcessBuilder(
                "bash",
                root.resolve("feedrank").toString(),
                "loadtest",
                "ramp",
                "--rate",
                "5",
                "--max-rate",
                "50",
                "--target",
                "http://ranker.internal:8080")
            .directory(root.toFile())
            .redirectErrorStream(true)
            .redirectOutput(root.resolve("out.txt").toFile());
    launcher.environment().put("JAVA_HOME", root.resolve("jdk").toString());
    Process started = launcher.start();
    assertThat(started.waitFor(60, TimeUnit.SECONDS)).as("the launcher ended").isTrue();
    assertThat(started.exitValue()).as(Files.readString(root.resolve("out.txt"))).isZero();

    List<List<String>> runs = mavenRuns(Files.readAllLines(root.resolve("mvnw.calls")));
    assertThat(runs).as("Maven runs").hasSize(1);
    assertThat(runs.get(0))
        .as("the Maven run")
        .containsSequence("-pl", "loadtest", "-am")
        .contains("test-compile", "dependency:build-classpath")
        .doesNotContain("install", "deploy");

    List<String> java = Files.readAllLines(root.resolve("java.args"));
    assertThat(java)
        .contains(
            "-Drate=5",
            "-Dmax.rate=50",
            "-Dtarget=http://ranker.internal:8080",
            "-Djava.util.prefs.userRoot="
                + root.resolve("loadtest/target/test-classes/gatling-prefs"))
        .containsSequence(
            "io.gatling.app.Gatling",
            "--simulation",
            "io.feedrank.loadtest.simulations.RankRamp",
            "--results-folder",
            root.resolve("loadtest/target/gatling").toString());
    assertThat(Files.readAllLines(root.resolve("java.argfile")))
        .containsExactly(
            "-cp",
            "\""
                + root.resolve("loadtest/target/test-classes")
                + ":/m2/gatling-app.jar:/checkout/ranker-service/target/classes\"");
  }

  private static void script(Path file, String... lines) throws Exception {
    Files.createDirectories(file.getParent());
    Files.writeString(file, "#!/usr/bin/env bash\n" + String.join("\n", lines) + "\n");
    assertThat(file.toFile().setExecutable(true)).isTrue();
  }

  /** The noted arguments, one list per run. */
  private static List<List<String>> mavenRuns(List<String> lines) {
    List<List<String>> runs = new ArrayList<>();
    List<String> run = new ArrayList<>();
    for (String line : lines) {
      if (line.isEmpty()) {
        runs.add(run);
        run = new ArrayList<>();
      } else {
        run.add(line);
      }
    }
    return runs;
  }
}
