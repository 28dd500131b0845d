# syntax=docker/dockerfile:1
# One multi-stage Dockerfile for every feedrank image (docker-compose.yml builds each target):
#   app   — the cli distribution; the service's command picks the component
#           (streams | ranker | train --listen | simulate ...)
#   flink — the official Flink image with the drift job's shaded jar in usrlib (application mode)

FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN ./mvnw -q -B -DskipTests -Dspotless.check.skip=true -pl cli,flink-drift -am package \
 && ./mvnw -q -B -pl cli dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory=/out/lib \
 && cp cli/target/cli-*.jar /out/lib/ \
 && cp flink-drift/target/flink-drift-*-job.jar /out/flink-drift-job.jar

FROM eclipse-temurin:17-jre AS app
# ONNX Runtime 1.29 crashes the JVM on long command lines unless its telemetry is off
ENV ORT_DISABLE_TELEMETRY=1 \
    TMPDIR=/tmp \
    DJL_CACHE_DIR=/var/cache/djl \
    ENGINE_CACHE_DIR=/var/cache/djl \
    FEEDRANK_HOME=/data
RUN useradd --system --uid 10001 feedrank \
 && mkdir -p /var/cache/djl /data/target \
 && chown -R feedrank /var/cache/djl /data
COPY --from=build /out/lib /opt/feedrank/lib
USER feedrank
WORKDIR /data
ENTRYPOINT ["java", "-Xss2m", "-Dai.djl.offline=true", "-cp", "/opt/feedrank/lib/*", "io.feedrank.cli.Main"]
CMD ["--help"]

FROM flink:2.2.1-java17 AS flink
COPY --from=build /out/flink-drift-job.jar /opt/flink/usrlib/flink-drift-job.jar
