package io.feedrank.cli;

import static java.nio.file.StandardCopyOption.REPLACE_EXISTING;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./feedrank loadtest} builds loadtest and the modules it uses in one Maven run, installing
 * nothing into ~/.m2, and runs loadtest's entry point (its pre-flight, then Gatling) on the test
 * classpath that run wrote, where feedrank's modules are this checkout's. The launcher runs here as
 * it is, from a copy of the checkout's root whose {@code mvnw} and {@code java} only note what they
 * are asked.
 */
class LoadtestLauncherTest {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @TempDir Path root;

  record Run(int exit, String output) {}

  @Test
  void oneMavenRunBuildsTheClasspathAndGatlingRunsOnIt() throws Exception {
    Run run =
        launch("ramp", "--rate", "5", "--max-rate=50", "--target", "http://ranker.internal:8080");
    assertThat(run.exit()).as(run.output()).isZero();

    List<List<String>> runs = mavenRuns(Files.readAllLines(root.resolve("mvnw.calls")));
    assertThat(runs).as("Maven runs").hasSize(1);
    assertThat(runs.get(0))
        .as("the Maven run")
        .containsSequence("-pl", "loadtest", "-am")
        .contains("test-compile", "dependency:build-classpath")
        // the ranker's test-jar, for loadtest's ITs, is not the Gatling JVM's
        .contains("-DexcludeClassifiers=tests")
        .doesNotContain("install", "deploy");

    List<String> java = Files.readAllLines(root.resolve("java.args"));
    // an OutOfMemoryError ends Gatling's JVM as every feedrank JVM (ExitOnOutOfMemoryTest)
    assertThat(java).first().isEqualTo(ExitOnOutOfMemoryTest.EXIT_ON_OOM);
    assertThat(java)
        .contains(
            "-Drate=5",
            "-Dmax.rate=50",
            "-Dtarget=http://ranker.internal:8080",
            "-Djava.util.prefs.userRoot="
                + root.resolve("loadtest/target/test-classes/gatling-prefs"))
        .containsSequence(
            "io.feedrank.loadtest.Main",
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

  /**
   * A value LoadConfig would refuse is refused by the launcher, exit code 2 and the option named,
   * before it builds: it reached Gatling as a property after a build of minutes, and the run ended
   * with Gatling's stack trace and exit code 1. Whole seconds, decimals and their bounds as
   * LoadConfig reads them; the two forms of an option as picocli's commands take them.
   */
  @Test
  void refusesAValueLoadConfigWouldRefuseBeforeBuilding() throws Exception {
    List<Map.Entry<List<String>, String>> refused =
        List.of(
            Map.entry(List.of("steady", "--duration", "5m"), "--duration"),
            Map.entry(List.of("steady", "--warmup=-1"), "--warmup"),
            Map.entry(List.of("spike", "--spike-factor", "0.5"), "--spike-factor"),
            Map.entry(List.of("steady", "--rate", "1e400"), "--rate"),
            Map.entry(
                List.of("steady", "--assert-error-percent", "100.5"), "--assert-error-percent"),
            Map.entry(List.of("steady", "--users", "2147483648"), "--users"),
            Map.entry(List.of("steady", "--ranker-replicas", "0"), "--ranker-replicas"),
            Map.entry(
                List.of("steady", "--assert-fallback-percent", "-1"), "--assert-fallback-percent"),
            Map.entry(List.of("steady", "--seed", "9223372036854775808"), "--seed"),
            Map.entry(List.of("steady", "--items", "100"), "--candidates"),
            // a base URL: no scheme, or a path, is none
            Map.entry(List.of("steady", "--target", "localhost:8080"), "--target"),
            Map.entry(List.of("steady", "--target=http://ranker:8080/v1"), "--target"),
            Map.entry(List.of("steady", "--arrivals", "even"), "--arrivals"),
            // a ramp from 2,500/s to the default max.rate went down
            Map.entry(List.of("ramp", "--rate", "2500"), "--max-rate"),
            Map.entry(List.of("ramp", "--rate", "50", "--max-rate", "4e1"), "--max-rate"),
            Map.entry(
                List.of("steady", "--api-key-file", root.resolve("missing").toString()),
                "--api-key-file"));
    for (Map.Entry<List<String>, String> r : refused) {
      Run run = launch(r.getKey().toArray(String[]::new));
      assertThat(run.exit()).as(r.getKey() + ": " + run.output()).isEqualTo(2);
      assertThat(run.output())
          .as(r.getKey().toString())
          .startsWith("feedrank loadtest: " + r.getValue());
      assertThat(root.resolve("mvnw.calls")).as(r.getKey() + ": Maven ran").doesNotExist();
    }
    // what LoadConfig accepts goes through as given
    Run accepted =
        launch(
            "spike",
            "--duration= 300 ",
            "--warmup",
            "0",
            "--spike-factor",
            "1.5e0",
            "--rate",
            ".5",
            "--seed",
            "-9223372036854775808",
            "--candidates",
            "600",
            "--items",
            "1200",
            "--target",
            "http://ranker.internal:8080/",
            "--arrivals",
            "Uniform",
            "--rate",
            "2500",
            "--assert-fallback-percent",
            "2.5");
    assertThat(accepted.exit()).as(accepted.output()).isZero();
    assertThat(Files.readAllLines(root.resolve("java.args")))
        .contains(
            "-Dduration= 300 ",
            "-Dspike.factor=1.5e0",
            "-Dseed=-9223372036854775808",
            "-Dtarget=http://ranker.internal:8080/",
            "-Darrivals=Uniform",
            "-Drate=2500",
            "-Dassert.fallback.percent=2.5");
    Run ramp = launch("ramp", "--rate", "2500", "--max-rate=2.5e3");
    assertThat(ramp.exit()).as(ramp.output()).isZero();
  }

  @Test
  void helpExitsZeroWithTheUsage() throws Exception {
    for (List<String> help : List.of(List.of("--help"), List.of("steady", "--rate", "5", "-h"))) {
      Run run = launch(help.toArray(String[]::new));
      assertThat(run.exit()).as(help + ": " + run.output()).isZero();
      assertThat(run.output()).startsWith("usage: ./feedrank loadtest steady|ramp|spike|soak");
      assertThat(root.resolve("mvnw.calls")).doesNotExist();
    }
  }

  /**
   * Runs {@code ./feedrank loadtest args} from a copy of the launcher in {@link #root}, whose Maven
   * notes its arguments (one line each, a blank line after a run, in {@code mvnw.calls}) and writes
   * the classpath file it is asked for, as dependency:build-classpath does, and whose java says it
   * is a 17 when asked (the launcher's version check), else notes its arguments ({@code java.args})
   * and the argfile's lines ({@code java.argfile}).
   */
  Run launch(String... args) throws Exception {
    Files.copy(ROOT.resolve("feedrank"), root.resolve("feedrank"), REPLACE_EXISTING);
    script(
        root.resolve("mvnw"),
        "printf '%s\\n' \"$@\" '' >> \"$(dirname \"$0\")/mvnw.calls\"",
        "for a in \"$@\"; do",
        "  case \"$a\" in",
        "    -Dmdep.outputFile=*) f=\"${a#*=}\"; mkdir -p \"$(dirname \"$f\")\";",
        "      printf '/m2/gatling-app.jar:/checkout/ranker-service/target/classes' > \"$f\" ;;",
        "  esac",
        "done");
    script(
        root.resolve("jdk/bin/java"),
        "[[ $1 == -version ]] && { echo 'openjdk version \"17.0.15\" 2025-04-15' >&2; exit 0; }",
        "d=\"$(dirname \"$0\")/../..\"",
        "printf '%s\\n' \"$@\" > \"$d/java.args\"",
        "for a in \"$@\"; do [[ $a == @* ]] && cat \"${a#@}\" > \"$d/java.argfile\"; done",
        "true");
    Files.deleteIfExists(root.resolve("mvnw.calls"));

    List<String> command = new ArrayList<>(List.of("bash", root.resolve("feedrank").toString()));
    command.add("loadtest");
    command.addAll(List.of(args));
    ProcessBuilder launcher =
        new ProcessBuilder(command)
            .directory(root.toFile())
            .redirectErrorStream(true)
            .redirectOutput(root.resolve("out.txt").toFile());
    launcher.environment().put("JAVA_HOME", root.resolve("jdk").toString());
    launcher.environment().remove("FEEDRANK_API_KEY");
    Process started = launcher.start();
    assertThat(started.waitFor(60, TimeUnit.SECONDS)).as("the launcher ended").isTrue();
    return new Run(started.exitValue(), Files.readString(root.resolve("out.txt")));
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
