package io.signalbox.distribution;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.backend.kafka.internal.KafkaBroker;
import io.signalbox.backend.postgres.internal.PostgresCluster;

/**
 * Issue 17 end to end on the assembled distribution: two edge sidecars (sources {@code host-a} and
 * {@code host-b}, TCP in, the Kafka backend hot-deployed from {@code optional/}) → one real Kafka
 * broker, topic {@code fleet} with 4 partitions → two aggregator sidecars (the Kafka transport
 * hot-deployed, one consumer group) → files and PostgreSQL. Configurations are the shipped templates
 * of {@code etc/templates/} with their commented keys set.
 *
 * <p>Under a steady load from one TCP client per edge: (1) jobs whose trace is spread over both
 * edges are whole on exactly one aggregator ({@code /api/traces/<tid>}); (2) one aggregator is
 * killed with {@code kill -9}, the other takes its partitions over; (3) the broker is stopped for
 * 10 s while the edges keep receiving: their channels to Kafka open the breaker and spool, and replay
 * once the broker is back. Afterwards every message sent is in the topic, in the files and in
 * {@code monitoring_events} at least once, and the duplicates are counted where they arose: in the
 * topic (edge side, a spooled batch sent whole again) and in the stores beyond the topic (the group
 * re-reading what the killed aggregator had not committed), each within its documented bound.
 *
 * <p>Every bulk line is unique: its {@code data.msg} is {@code k-<edge>-<seq>}; its trace id
 * {@code job-<seq / 50>} is shared by both edges, so every job's trace has both hosts' events.
 */
class KafkaFleetIT {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaFleetIT.class);

    private static final String TOPIC = "fleet";
    private static final int PARTITIONS = 4;
    private static final String GROUP = "fleet-aggregators";
    private static final long BASE_TS = 1_763_900_000_000L;
    /** Lines per 10 ms tick per edge: 300 lines/s per edge. */
    private static final int LINES_PER_TICK = 3;
    private static final int LINES_PER_JOB = 50;
    /** The aggregators' transport: the duplicate bound per crash is MAX_UNCOMMITTED + MAX_POLL_RECORDS. */
    private static final int MAX_UNCOMMITTED = 2000;
    private static final int MAX_POLL_RECORDS = 500;
    /** Correlation's batch.size (the default): the most one edge's outage can send twice (see edgeDuplicateBound). */
    private static final int EDGE_BATCH = 100;
    /** Routing's max.in.flight (the default): batches one edge may have in flight to Kafka at once. */
    private static final int EDGE_IN_FLIGHT = 4;
    private static final Duration OUTAGE = Duration.ofSeconds(10);
    private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(90);
    private static final Pattern KEY = Pattern.compile("\"msg\":\"k-(\\d+)-(\\d+)\"");

    @TempDir
    Path tempDir;

    private KafkaBroker broker;
    private PostgresCluster pg;
    private final List<Installation> sidecars = new ArrayList<>();
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final List<Sender> senders = new ArrayList<>();
    private final List<Future<Void>> running = new ArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        senders.forEach(s -> s.halted = true);
        threads.shutdownNow();
        sidecars.forEach(Installation::stopQuietly);
        if (pg != null) {
            pg.close();
        }
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void edgesToKafkaToAggregatorsSurviveAKilledAggregatorAndABrokerOutage() throws Exception {
        // --- set-up: broker and PostgreSQL side by side, then the four sidecars side by side
        Future<PostgresCluster> pgStarting = threads.submit(() -> PostgresCluster.create(null, false));
        broker = KafkaBroker.start(Files.createDirectories(tempDir.resolve("kafka")));
        broker.createTopic(TOPIC, PARTITIONS);
        pg = pgStarting.get(2, TimeUnit.MINUTES);

        Installation edgeA = edge("edge-a");
        Installation edgeB = edge("edge-b");
        Installation agg1 = aggregator("agg-1");
        Installation agg2 = aggregator("agg-2");
        startAll(List.of(edgeA, edgeB, agg1, agg2));
        for (Installation e : List.of(edgeA, edgeB)) {
            assertThat(Installation.poll(Installation.STARTUP_TIMEOUT, () -> e.log().contains("backend bus bound")))
                    .as("the hot-deployed Kafka backend is bound on %s; log:\n%s", e.home(), excerpt(e)).isTrue();
        }
        // the range assignor gives each of the two members two of the four partitions
        for (Installation a : List.of(agg1, agg2)) {
            assertThat(Installation.poll(Installation.STARTUP_TIMEOUT, Duration.ofMillis(250), () -> partitions(a) == 2))
                    .as("%s consumes 2 of the 4 partitions (has %s); log:\n%s", a.home(), partitions(a), excerpt(a)).isTrue();
        }

        // --- (1) jobs spread over both hosts, whole on one aggregator
        List<String> jobs = showcaseJobs();
        sendShowcase(edgeA, edgeB, jobs);
        Map<String, Installation> holder = new LinkedHashMap<>();
        boolean whole = Installation.poll(Duration.ofSeconds(30), Duration.ofMillis(250), () -> {
            holder.clear();
            for (String tid : jobs) {
                for (Installation a : List.of(agg1, agg2)) {
                    if (Installation.get(api(a, "/api/traces/" + tid)).status() == 200) {
                        holder.put(tid, a);
                    }
                }
            }
            return holder.size() == jobs.size() && jobs.stream().allMatch(t -> wholeTrace(holder.get(t), t));
        });
        for (String tid : jobs) {
            Installation.HttpAnswer one = Installation.get(api(agg1, "/api/traces/" + tid));
            Installation.HttpAnswer two = Installation.get(api(agg2, "/api/traces/" + tid));
            LOG.info("trace {} (partition {}): agg-1 {} {}, agg-2 {} {}", tid, partitionOf(tid), one.status(), one.body(),
                    two.status(), two.body());
            assertThat(List.of(one.status(), two.status())).as("trace %s is on exactly one aggregator", tid)
                    .containsExactlyInAnyOrder(200, 404);
        }
        assertThat(whole).as("each job's trace with both hosts' spans on one aggregator: %s", holder).isTrue();
        assertThat(Set.copyOf(holder.values())).as("the jobs (all 4 partitions) are shared by both aggregators")
                .containsExactlyInAnyOrder(agg1, agg2);

        // --- steady load
        startSender(1, "host-a", edgeA);
        startSender(2, "host-b", edgeB);
        awaitSent(3000);
        assertThat(Installation.poll(Duration.ofSeconds(30), Duration.ofMillis(250), () -> storedLines(agg1) > 0))
                .as("agg-1 writes its share before it is killed; log:\n%s", excerpt(agg1)).isTrue();

        // --- (2) kill -9 of agg-1: agg-2 takes all partitions
        long pid1 = agg1.pid().orElseThrow();
        Installation.signal(pid1, "KILL");
        long sentAtKill = sent();
        assertThat(Installation.poll(Duration.ofSeconds(30), () -> !Installation.isRunning(pid1))).isTrue();
        LOG.info("agg-1 (pid {}) killed after {} lines sent", pid1, sentAtKill);
        assertThat(Installation.poll(Duration.ofSeconds(45), Duration.ofMillis(250), () -> partitions(agg2) == PARTITIONS))
                .as("agg-2 takes over all %d partitions; log:\n%s", PARTITIONS, excerpt(agg2)).isTrue();
        LOG.info("agg-2 consumes all {} partitions, {} lines sent", PARTITIONS, sent());
        awaitSent(sent() + 1000);

        // --- (3) the broker stopped for 10 s while the edges receive
        double rebalancesBeforeOutage = metric(agg2, "signalbox_kafka_consumer_rebalances_total", "bus");
        broker.stop();
        long sentAtStop = sent();
        LOG.info("broker stopped after {} lines sent", sentAtStop);
        hold(OUTAGE);
        long sentAtRestart = sent();
        for (Installation e : List.of(edgeA, edgeB)) {
            assertThat(metric(e, "signalbox_backend_breaker_opened_total", "bus"))
                    .as("the breaker of bus on %s opened during the outage; log:\n%s", e.home(), excerpt(e)).isGreaterThan(0);
            assertThat(metric(e, "signalbox_spool_appended_messages_total", "bus"))
                    .as("%s spooled for bus during the outage; log:\n%s", e.home(), excerpt(e)).isGreaterThan(0);
        }
        broker.start();
        LOG.info("broker started again: {} lines sent during the outage, {} now", sentAtRestart - sentAtStop, sent());
        awaitSent(sent() + 1500);
        haltSenders();
        long total = sent();

        // --- everything arrives: the topic, the files, PostgreSQL
        List<Installation> aggregators = List.of(agg1, agg2);
        boolean arrived = Installation.poll(DELIVERY_TIMEOUT, Duration.ofSeconds(1),
                () -> distinct(fileKeys(aggregators)) == total && distinct(postgresKeys()) == total);
        for (Installation e : List.of(edgeA, edgeB)) {
            LOG.info("{}: spool appended {}, replayed {}, held {}; kafka records {}", e.home(),
                    metric(e, "signalbox_spool_appended_messages_total", "bus"),
                    metric(e, "signalbox_spool_replayed_messages_total", "bus"), metric(e, "signalbox_spool_messages", "bus"),
                    metric(e, "signalbox_kafka_records_total", "bus"));
        }
        Map<Long, Integer> inTopic = topicKeys();
        Map<Long, Integer> inFiles = fileKeys(aggregators);
        Map<Long, Integer> inPostgres = postgresKeys();
        LOG.info("{} lines sent; distinct in topic {}, files {}, PostgreSQL {}", total, distinct(inTopic), distinct(inFiles),
                distinct(inPostgres));
        assertThat(arrived).as("all %d lines in the files (%d distinct) and PostgreSQL (%d distinct) within %s; agg-2 log:\n%s",
                total, distinct(inFiles), distinct(inPostgres), DELIVERY_TIMEOUT, excerpt(agg2)).isTrue();
        for (Installation e : List.of(edgeA, edgeB)) {
            assertThat(metric(e, "signalbox_spool_replayed_messages_total", "bus")).as("%s replayed its spool", e.home())
                    .isGreaterThan(0);
            assertThat(metric(e, "signalbox_spool_messages", "bus")).as("%s: the spool of bus is empty", e.home()).isZero();
        }

        assertEverySentArrived("topic", inTopic);
        assertEverySentArrived("files", inFiles);
        assertEverySentArrived("monitoring_events", inPostgres);
        long edgeDuplicates = duplicates(inTopic);
        long fileDuplicates = beyond(inFiles, inTopic);
        long postgresDuplicates = beyond(inPostgres, inTopic);
        // the group re-reads at most MAX_UNCOMMITTED + MAX_POLL_RECORDS per crash or loss of partitions: the
        // kill of agg-1, and each time agg-2 was given its partitions anew after the outage (its session may
        // have expired while the coordinator was away: then what it had not committed is read again)
        long reassignments = Math.round(metric(agg2, "signalbox_kafka_consumer_rebalances_total", "bus") - rebalancesBeforeOutage);
        long aggregatorBound = (1 + reassignments) * (MAX_UNCOMMITTED + MAX_POLL_RECORDS);
        LOG.info("duplicates: {} in the topic (edge side, bound {}), beyond the topic {} in the files and {} in PostgreSQL "
                + "(aggregator side, bound {}: 1 crash + {} reassignments after the outage)", edgeDuplicates,
                edgeDuplicateBound(), fileDuplicates, postgresDuplicates, aggregatorBound, reassignments);
        assertThat(edgeDuplicates).as("records in the topic more than once").isLessThanOrEqualTo(edgeDuplicateBound());
        assertThat(fileDuplicates).as("lines in the files more often than in the topic").isLessThanOrEqualTo(aggregatorBound);
        assertThat(postgresDuplicates).as("rows more often than in the topic").isLessThanOrEqualTo(aggregatorBound);

        // the last job's trace (sent after all of it) is whole on the aggregator left
        String lastJob = "job-" + ((Math.min(senders.get(0).seq.get(), senders.get(1).seq.get()) - 1) / LINES_PER_JOB);
        String last = Installation.get(api(agg2, "/api/traces/" + lastJob)).ok();
        LOG.info("agg-2 /api/traces/{}: {}", lastJob, last);
        assertThat(last).as("the last job's trace on agg-2 has both hosts' events").contains("\"host-a\"")
                .contains("\"host-b\"");
    }

    /**
     * The edge side: a batch in flight when Kafka went away may have been acknowledged in part; it
     * goes to the spool whole and is sent whole again. Up to max.in.flight batches per edge
     * (of correlation batch.size each).
     */
    private static int edgeDuplicateBound() {
        return 2 * EDGE_IN_FLIGHT * EDGE_BATCH;
    }

    // --- set-up ------------------------------------------------------------------------

    private Installation copy(String name) throws IOException {
        Installation i = Installation.copyInto(Files.createDirectories(tempDir.resolve(name)));
        sidecars.add(i);
        // four sidecars, a broker and PostgreSQL share two cores: the metrics store is not what this is about
        Files.delete(i.home().resolve("etc/io.signalbox.route-metrics.cfg"));
        i.configure("etc/io.signalbox.metrics.store.cfg", "enabled=false\n");
        i.configure("etc/io.signalbox.correlation.cfg", "flush.interval.ms=250\n");
        return i;
    }

    /** TCP in, the Kafka backend "bus" (template with its keys set) as the only route, a quick breaker. */
    private Installation edge(String name) throws IOException {
        Installation i = copy(name);
        deploy(i, "io.signalbox.backend.kafka.jar");
        String cfg = template(i, "io.signalbox.backend.kafka.cfg");
        cfg = set(cfg, "#bootstrap.servers=kafka1:9092,kafka2:9092", "bootstrap.servers=" + broker.bootstrapServers());
        cfg = set(cfg, "#topic=signalbox", "topic=" + TOPIC);
        // a write fails within ~2 s when the broker is away, so the breaker opens early in a 10 s outage
        cfg = set(cfg, "#delivery.timeout.ms=30000", "delivery.timeout.ms=2500");
        cfg = set(cfg, "#request.timeout.ms=10000", "request.timeout.ms=1000");
        cfg = set(cfg, "#max.block.ms=10000", "max.block.ms=1000");
        i.configure("etc/io.signalbox.backend.kafka-bus.cfg", cfg);
        i.configure("etc/io.signalbox.route-default.cfg", "source=\"default\"\nbackends=[\"bus\"]\n");
        i.configure("etc/io.signalbox.routing.cfg",
                "breaker.failures=2\nbreaker.open.ms=1000\nretry.initial.ms=100\nretry.max.ms=500\n");
        return i;
    }

    /** The Kafka transport "bus" (template with its keys set) in one group; routes to files and PostgreSQL. */
    private Installation aggregator(String name) throws IOException {
        Installation i = copy(name);
        deploy(i, "io.signalbox.transport.kafka.jar");
        deploy(i, "io.signalbox.backend.postgres.jar");
        String cfg = template(i, "io.signalbox.transport.kafka.cfg");
        cfg = set(cfg, "#bootstrap.servers=kafka1:9092,kafka2:9092", "bootstrap.servers=" + broker.bootstrapServers());
        cfg = set(cfg, "#topics=[\"signalbox\"]", "topics=[\"" + TOPIC + "\"]");
        cfg = set(cfg, "#group.id=signalbox-aggregators", "group.id=" + GROUP);
        cfg = set(cfg, "#max.uncommitted=10000", "max.uncommitted=" + MAX_UNCOMMITTED);
        cfg = set(cfg, "#max.poll.records=1000", "max.poll.records=" + MAX_POLL_RECORDS);
        // the group notices a killed member after session.timeout.ms (Kafka's default 45 s; 6 s is the broker's minimum)
        cfg += "\nkafka.session.timeout.ms=6000\nkafka.heartbeat.interval.ms=1000\n";
        i.configure("etc/io.signalbox.transport.kafka-bus.cfg", cfg);
        i.configure("etc/io.signalbox.backend.postgres-db.cfg", "url=" + pg.url() + "\nuser=" + pg.user() + "\n");
        i.configure("etc/io.signalbox.route-default.cfg", "source=\"default\"\nbackends=[\"files\",\"db\"]\n");
        return i;
    }

    private static void deploy(Installation i, String jar) throws IOException {
        Path from = i.home().resolve("optional").resolve(jar);
        assertThat(from).as("%s ships in optional/", jar).isRegularFile();
        Files.copy(from, i.home().resolve("deploy").resolve(jar));
    }

    private static String template(Installation i, String name) throws IOException {
        return Files.readString(i.home().resolve("etc/templates").resolve(name), StandardCharsets.UTF_8);
    }

    /** Replaces the template's line {@code from} (which must be there) by {@code to}. */
    private static String set(String template, String from, String to) {
        assertThat(template.lines()).as("the template has the line %s", from).contains(from);
        return template.replace(from, to);
    }

    /** {@code bin/signalbox start} of each, side by side (each waits until its TCP port answers). */
    private void startAll(List<Installation> all) throws Exception {
        List<Future<Void>> starts = new ArrayList<>();
        for (Installation i : all) {
            starts.add(threads.submit(() -> {
                i.start(i.home().getParent().getFileName().toString());
                return null;
            }));
        }
        for (Future<Void> f : starts) {
            f.get(3, TimeUnit.MINUTES);
        }
    }

    // --- the showcase jobs -------------------------------------------------------------

    /** Two job trace ids per partition (Kafka's partitioner: murmur2 of the key), so both aggregators hold some. */
    private static List<String> showcaseJobs() {
        List<String> jobs = new ArrayList<>();
        int[] perPartition = new int[PARTITIONS];
        for (int n = 0; jobs.size() < 2 * PARTITIONS; n++) {
            String tid = "fleet-job-" + n;
            int p = partitionOf(tid);
            if (perPartition[p] < 2) {
                perPartition[p]++;
                jobs.add(tid);
            }
        }
        return jobs;
    }

    private static int partitionOf(String key) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % PARTITIONS;
    }

    /** Each job: its root span on host-a (through edge-a), a child span on host-b (through edge-b). */
    private static void sendShowcase(Installation edgeA, Installation edgeB, List<String> jobs) throws IOException {
        StringBuilder a = new StringBuilder();
        StringBuilder b = new StringBuilder();
        long t = BASE_TS;
        for (String tid : jobs) {
            a.append(span("host-a", tid, tid + "-root", null, "job", t)).append('\n');
            b.append(span("host-b", tid, tid + "-step", tid + "-root", "step", t + 10)).append('\n');
            t += 100;
        }
        sendAndClose(edgeA, a.toString());
        sendAndClose(edgeB, b.toString());
    }

    private static String span(String src, String tid, String sid, String pid, String name, long start) {
        return "{\"v\":1,\"src\":\"" + src + "\",\"ts\":" + start + ",\"type\":\"span\",\"tid\":\"" + tid + "\",\"sid\":\""
                + sid + "\"" + (pid != null ? ",\"pid\":\"" + pid + "\"" : "") + ",\"data\":{\"name\":\"" + name
                + "\",\"status\":\"ok\",\"start\":" + start + ",\"end\":" + (start + 40) + "}}";
    }

    private static void sendAndClose(Installation edge, String lines) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), edge.port())) {
            s.getOutputStream().write(lines.getBytes(StandardCharsets.UTF_8));
            Installation.halfCloseAndAwaitClose(s, Duration.ofSeconds(30), "showcase spans to " + edge.home());
        }
    }

    /** The trace on {@code a} has both spans, from host-a and host-b. */
    private static boolean wholeTrace(Installation a, String tid) {
        String body = Installation.get(api(a, "/api/traces/" + tid)).ok();
        return body.contains("\"span_count\":2") && body.contains("\"host-a\"") && body.contains("\"host-b\"");
    }

    // --- the load ----------------------------------------------------------------------

    private void startSender(int id, String source, Installation edge) {
        Sender s = new Sender(id, source, edge.port());
        senders.add(s);
        running.add(threads.submit(s));
    }

    private long sent() {
        return senders.stream().mapToLong(s -> s.seq.get()).sum();
    }

    private void awaitSent(long target) throws Exception {
        boolean reached = Installation.poll(Duration.ofMinutes(1),
                () -> sent() >= target || running.stream().anyMatch(Future::isDone));
        for (Future<Void> f : running) {
            if (f.isDone()) {
                f.get(); // throws what the sender threw
            }
        }
        assertThat(reached).as("%d lines sent (got %d)", target, sent()).isTrue();
    }

    /** Halts the senders; each half-closes and waits for the edge to close: everything it wrote was read. */
    private void haltSenders() throws Exception {
        senders.forEach(s -> s.halted = true);
        for (Future<Void> f : running) {
            f.get(2, TimeUnit.MINUTES);
        }
        LOG.info("senders halted: {}", senders.stream().map(s -> s.source + "=" + s.seq.get()).toList());
    }

    /** One connection to one edge, {@link #LINES_PER_TICK} lines every 10 ms, sequence numbers 0, 1, … */
    private static final class Sender implements Callable<Void> {
        final int id;
        final String source;
        final int port;
        final AtomicLong seq = new AtomicLong();
        volatile boolean halted;

        Sender(int id, String source, int port) {
            this.id = id;
            this.source = source;
            this.port = port;
        }

        @Override
        public Void call() throws IOException {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
                OutputStream out = socket.getOutputStream();
                StringBuilder b = new StringBuilder(LINES_PER_TICK * 200);
                long next = System.nanoTime();
                while (!halted) {
                    b.setLength(0);
                    long first = seq.get();
                    for (long s = first; s < first + LINES_PER_TICK; s++) {
                        b.append("{\"v\":1,\"src\":\"").append(source).append("\",\"ts\":").append(BASE_TS + s)
                                .append(",\"type\":\"event\",\"tid\":\"job-").append(s / LINES_PER_JOB)
                                .append("\",\"data\":{\"level\":\"info\",\"msg\":\"k-").append(id).append('-').append(s)
                                .append("\"}}\n");
                    }
                    out.write(b.toString().getBytes(StandardCharsets.UTF_8));
                    seq.addAndGet(LINES_PER_TICK);
                    next += TimeUnit.MILLISECONDS.toNanos(10);
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    } else if (wait < -TimeUnit.SECONDS.toNanos(1)) {
                        next = System.nanoTime(); // held up: go on at the rate, no burst
                    }
                }
                Installation.halfCloseAndAwaitClose(socket, Duration.ofSeconds(60), source + " sender");
            }
            return null;
        }
    }

    // --- what arrived ------------------------------------------------------------------

    /** (edge, sequence) as one long. */
    private static long key(long edge, long seq) {
        return edge << 32 | seq;
    }

    private static Long keyOf(String line) {
        Matcher m = KEY.matcher(line);
        return m.find() ? key(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))) : null;
    }

    private static long distinct(Map<Long, Integer> counts) {
        return counts.size();
    }

    /**
     * The keys of every complete line the aggregators' file backends wrote. A line cut short by
     * {@code kill -9} (no newline) is not a written message and is left out.
     */
    private static Map<Long, Integer> fileKeys(List<Installation> aggregators) {
        Map<Long, Integer> counts = new HashMap<>();
        try {
            for (Installation a : aggregators) {
                for (Path f : Installation.filesUnder(a.filesRoot())) {
                    String text = Files.readString(f, StandardCharsets.UTF_8);
                    int end = text.lastIndexOf('\n');
                    for (String line : text.substring(0, end + 1).split("\n")) {
                        Long k = keyOf(line);
                        if (k != null) {
                            counts.merge(k, 1, Integer::sum);
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return counts;
    }

    /** Lines the file backend of {@code a} has written so far. */
    private static long storedLines(Installation a) {
        return distinct(fileKeys(List.of(a)));
    }

    /** The key of every row of monitoring_events; empty while the table does not exist yet. */
    private Map<Long, Integer> postgresKeys() {
        Map<Long, Integer> counts = new HashMap<>();
        try (Connection c = pg.connect("signalbox"); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT data->>'msg' FROM monitoring_events")) {
            while (rs.next()) {
                Long k = keyOf("\"msg\":\"" + rs.getString(1) + "\"");
                if (k != null) {
                    counts.merge(k, 1, Integer::sum);
                }
            }
        } catch (SQLException notYet) {
            LOG.debug("reading monitoring_events: {}", notYet.toString());
        }
        return counts;
    }

    /** Every record of the topic, read from the beginning of each partition to its end. */
    private Map<Long, Integer> topicKeys() {
        Map<String, Object> props = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers(),
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        Map<Long, Integer> counts = new HashMap<>();
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props)) {
            List<TopicPartition> all = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                all.add(new TopicPartition(TOPIC, p));
            }
            c.assign(all);
            c.seekToBeginning(all);
            Map<TopicPartition, Long> end = c.endOffsets(all, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (all.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    Long k = keyOf(new String(r.value(), StandardCharsets.UTF_8));
                    if (k != null) {
                        counts.merge(k, 1, Integer::sum);
                    }
                }
            }
            LOG.info("topic {} read to its end offsets {}", TOPIC, end);
        }
        return counts;
    }

    // --- assertions --------------------------------------------------------------------

    /** Every line every sender wrote is in {@code counts} (at least once), and nothing else is. */
    private void assertEverySentArrived(String where, Map<Long, Integer> counts) {
        List<String> missing = new ArrayList<>();
        long missingCount = 0;
        long expected = 0;
        Set<Long> sentKeys = new java.util.HashSet<>();
        for (Sender s : senders) {
            for (long q = 0; q < s.seq.get(); q++) {
                expected++;
                sentKeys.add(key(s.id, q));
                if (!counts.containsKey(key(s.id, q))) {
                    missingCount++;
                    if (missing.size() < 10) {
                        missing.add("k-" + s.id + "-" + q);
                    }
                }
            }
        }
        TreeSet<Long> unexpected = new TreeSet<>(counts.keySet());
        unexpected.removeAll(sentKeys);
        LOG.info("{}: {} distinct of {} sent, {} missing, {} more than once, {} unexpected", where, counts.size(), expected,
                missingCount, counts.values().stream().filter(n -> n > 1).count(), unexpected.size());
        assertThat(missing).as("%s: %d of %d lines missing (the first ones)", where, missingCount, expected).isEmpty();
        assertThat(unexpected).as("%s: lines this test did not send", where).isEmpty();
    }

    /** How many copies beyond the first. */
    private static long duplicates(Map<Long, Integer> counts) {
        return counts.values().stream().mapToLong(n -> n - 1).sum();
    }

    /** How many copies {@code store} holds beyond what the topic holds (re-read by the consumer group). */
    private static long beyond(Map<Long, Integer> store, Map<Long, Integer> topic) {
        long n = 0;
        for (Map.Entry<Long, Integer> e : store.entrySet()) {
            n += Math.max(0, e.getValue() - topic.getOrDefault(e.getKey(), 0));
        }
        return n;
    }

    // --- helpers -----------------------------------------------------------------------

    private static String api(Installation i, String path) {
        return "http://127.0.0.1:" + i.httpPort() + path;
    }

    /** The value of {@code name{…="<label>"…}} on the /metrics of {@code i}; -1 when absent or unreachable. */
    private static double metric(Installation i, String name, String label) {
        String text = Installation.get(api(i, "/metrics")).ok();
        for (String line : text.lines().toList()) {
            if (line.startsWith(name + "{") && line.contains("=\"" + label + "\"")) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return -1;
    }

    /** The partitions the aggregator's transport "bus" consumes now (-1 while it does not say). */
    private static int partitions(Installation a) {
        return (int) metric(a, "signalbox_kafka_consumer_partitions", "bus");
    }

    private static void hold(Duration duration) {
        long end = System.nanoTime() + duration.toNanos();
        for (long left = duration.toNanos(); left > 0; left = end - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }

    private static String excerpt(Installation i) {
        return Installation.excerpt(i.log(), "kafka", "breaker", "spool", "backend ", "assigned");
    }
}
