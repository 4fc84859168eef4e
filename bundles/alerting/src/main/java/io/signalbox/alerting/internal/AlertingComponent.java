package io.signalbox.alerting.internal;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

import org.apache.felix.fileinstall.ArtifactInstaller;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Ingest;
import io.signalbox.api.LatencyHistogram;
import io.signalbox.api.MetricsSink;
import io.signalbox.api.RateLimitedLog;
import io.signalbox.api.StatsSource;
import io.signalbox.metrics.promql.Engine;
import io.signalbox.metrics.store.MetricStore;
import io.signalbox.metrics.store.MetricStore.LabeledSample;
import io.signalbox.protocol.DecodeResult;
import io.signalbox.protocol.LineDecoder;

/**
 * Alerting: the rule files fileinstall finds ({@code *.rules.yml}, {@code *.rules.yaml} in {@code etc/}), each
 * rule evaluated with the store's PromQL engine over the store plus the samples not committed yet
 * ({@link MergedStorage}) — when a sample of a metric it reads arrives ({@link SampleTap} → {@link #sample}), on its group's timer,
 * and when a pending alert's {@code for} is over. Each state change is an event from source {@value #SOURCE}
 * offered to the pipeline with {@link Ingest#offerAndFlush} (routed at once, by the route files) and firing /
 * resolved alerts go to Alertmanager.
 *
 * <p>Threads: one evaluation thread owns every rule and alert ({@link RuleState}); the ingest listener only
 * records the sample and marks rules dirty; Alertmanager is called on a thread of its own. Readers (HTTP,
 * /metrics) see an immutable {@link View} published after every change.
 */
@Component(name = AlertingComponent.PID, configurationPid = AlertingComponent.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true,
        service = { ArtifactInstaller.class, StatsSource.class, AlertingComponent.class })
@Designate(ocd = AlertingConfig.class)
public final class AlertingComponent implements SampleTap.Sink, ArtifactInstaller, StatsSource {
    public static final String PID = "io.signalbox.alerting";
    /** The source of every alert event. */
    public static final String SOURCE = "signalbox-alerts";

    private static final Logger LOG = LoggerFactory.getLogger(AlertingComponent.class);
    private static final long TICK_MS = 250;

    /** What the HTTP API and /metrics read. */
    record View(List<RuleView> rules, Map<String, String> fileErrors) {
    }

    record RuleView(Rule rule, String state, String health, String lastError, long lastEvaluation,
            double evaluationSeconds, List<AlertView> alerts) {
    }

    record AlertView(Map<String, String> labels, Map<String, String> annotations, String state, double value,
            long activeAt) {
    }

    private record Index(Map<String, List<RuleState>> byName, List<RuleState> anyName) {
        boolean isEmpty() {
            return byName.isEmpty() && anyName.isEmpty();
        }
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile MetricStore store;
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile Ingest ingest;

    private final AlertingConfig config;
    private final SampleTap tap;
    private final StateFile stateFile;
    private final RecentSamples recent;
    private final AlertmanagerClient alertmanager;
    private final ScheduledExecutorService evaluator;
    private final ExecutorService notifier;
    private final LineDecoder decoder = new LineDecoder();
    private final RateLimitedLog problems = new RateLimitedLog(LOG);

    // evaluation thread only
    private final Map<String, List<RuleState>> files = new LinkedHashMap<>();
    private final Map<String, List<Alert>> restored;
    private final Map<String, String> fileErrors = new LinkedHashMap<>();

    private volatile Index index = new Index(Map.of(), List.of());
    private volatile View view = new View(List.of(), Map.of());
    private final Set<RuleState> dirty = ConcurrentHashMap.newKeySet();
    /** Arrival (nanoTime) of the oldest sample not yet evaluated, per dirty rule: the detection latency's start. */
    private final Map<RuleState, Long> dirtySince = new ConcurrentHashMap<>();
    private final AtomicBoolean evaluationQueued = new AtomicBoolean();

    final LongAdder evaluations = new LongAdder();
    final LongAdder evaluationFailures = new LongAdder();
    final LongAdder filesRejected = new LongAdder();
    final LongAdder eventsLost = new LongAdder();
    final Map<String, LongAdder> events = new ConcurrentHashMap<>();
    final LatencyHistogram detection = new LatencyHistogram();

    @Activate
    public AlertingComponent(AlertingConfig config, @Reference SampleTap tap) throws IOException {
        this.config = config;
        this.tap = tap;
        validate(config);
        this.stateFile = new StateFile(Path.of(config.state_path()).toAbsolutePath());
        this.restored = loadState();
        this.recent = new RecentSamples(config.recent_retention_ms(), config.recent_max_samples());
        this.alertmanager = config.alertmanager_url().isBlank() ? null
                : new AlertmanagerClient(config.alertmanager_url().trim(), config.alertmanager_timeout_ms());
        this.evaluator = Executors.newSingleThreadScheduledExecutor(r -> thread(r, "signalbox-alerting"));
        this.notifier = Executors.newSingleThreadExecutor(r -> thread(r, "signalbox-alertmanager"));
        evaluator.scheduleWithFixedDelay(this::tick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
        tap.attach(this);
        LOG.info("alerting started: evaluation interval {} ms, state {}, alertmanager {}, {} alert states to restore",
                config.evaluation_interval_ms(), stateFile.path(), alertmanager == null ? "none" : alertmanager.uri(),
                restored.values().stream().mapToInt(List::size).sum());
    }

    private static Thread thread(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    private static void validate(AlertingConfig c) {
        StringBuilder p = new StringBuilder();
        if (c.evaluation_interval_ms() < 100) {
            p.append(" evaluation.interval.ms must be >= 100;");
        }
        if (c.alertmanager_resend_delay_ms() < 1000) {
            p.append(" alertmanager.resend.delay.ms must be >= 1000;");
        }
        if (c.alertmanager_timeout_ms() < 100) {
            p.append(" alertmanager.timeout.ms must be >= 100;");
        }
        if (c.recent_retention_ms() < 1000) {
            p.append(" recent.retention.ms must be >= 1000;");
        }
        if (c.recent_max_samples() < 1) {
            p.append(" recent.max.samples must be >= 1;");
        }
        if (c.state_path().isBlank()) {
            p.append(" state.path must not be empty;");
        }
        String url = c.alertmanager_url().trim();
        if (!url.isEmpty() && !url.startsWith("http://") && !url.startsWith("https://")) {
            p.append(" alertmanager.url must start with http:// or https:// (got \"").append(url).append("\");");
        }
        if (p.length() > 0) {
            String msg = "configuration " + PID + " rejected:" + p;
            LOG.error(msg);
            throw new IllegalArgumentException(msg);
        }
    }

    private Map<String, List<Alert>> loadState() {
        try {
            return new HashMap<>(stateFile.load());
        } catch (IOException | RuntimeException e) {
            LOG.error("alerting: state file {} unreadable, starting without the previous alert states: {}",
                    stateFile.path(), e.toString());
            return new HashMap<>();
        }
    }

    // ---- samples arrive (transport threads) -------------------------------------------------------

    @Override
    public boolean wantsSamples() {
        return !index.isEmpty();
    }

    @Override
    public void sample(LabeledSample sample, long now) {
        Index idx = index;
        List<RuleState> named = idx.byName().get(sample.labels().get("__name__"));
        if (named == null && idx.anyName().isEmpty()) {
            return;
        }
        recent.add(sample);
        if (named != null) {
            mark(named, now);
        }
        mark(idx.anyName(), now);
        if (evaluationQueued.compareAndSet(false, true)) {
            try {
                evaluator.execute(this::evaluateDirty);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                evaluationQueued.set(false); // stopping
            }
        }
    }

    private void mark(List<RuleState> rules, long now) {
        for (RuleState rs : rules) {
            dirtySince.putIfAbsent(rs, now);
            dirty.add(rs);
        }
    }

    private void evaluateDirty() {
        evaluationQueued.set(false);
        List<RuleState> todo = new ArrayList<>();
        Map<RuleState, Long> since = new HashMap<>();
        for (RuleState rs : dirty) {
            dirty.remove(rs);
            Long t = dirtySince.remove(rs);
            if (t != null) {
                since.put(rs, t);
            }
            if (isLoaded(rs)) {
                todo.add(rs);
            }
        }
        evaluate(todo, System.currentTimeMillis(), since);
    }

    private boolean isLoaded(RuleState rs) {
        List<RuleState> l = files.get(rs.rule.file());
        return l != null && l.contains(rs);
    }

    // ---- the timer --------------------------------------------------------------------------------

    private void tick() {
        try {
            long now = System.currentTimeMillis();
            recent.prune(now);
            List<RuleState> due = new ArrayList<>();
            for (List<RuleState> l : files.values()) {
                for (RuleState rs : l) {
                    long interval = rs.rule.intervalMs() > 0 ? rs.rule.intervalMs() : config.evaluation_interval_ms();
                    if (now >= rs.lastEvaluation + interval || now >= rs.nextForDeadline()) {
                        due.add(rs);
                    }
                }
            }
            if (!due.isEmpty()) {
                evaluate(due, now, Map.of());
            }
            notifyAlertmanager(now);
        } catch (RuntimeException e) {
            problems.warn("tick", "alerting: timer evaluation failed: {}", e.toString());
        }
    }

    // ---- evaluation -------------------------------------------------------------------------------

    private void evaluate(List<RuleState> rules, long now, Map<RuleState, Long> since) {
        if (rules.isEmpty()) {
            return;
        }
        MetricStore s = store;
        List<RuleState.Transition> changes = new ArrayList<>();
        if (s == null || !s.enabled()) {
            for (RuleState rs : rules) {
                rs.failed("the metrics store is not available (disabled or not running)", now);
            }
        } else {
            Engine engine = new Engine(new MergedStorage(s, recent), s.lookbackDeltaMs());
            for (RuleState rs : rules) {
                long t0 = System.nanoTime();
                try {
                    changes.addAll(rs.apply(engine.instant(rs.rule.expr(), now), now));
                } catch (RuntimeException e) {
                    rs.failed(e.getMessage() == null ? e.toString() : e.getMessage(), now);
                }
                rs.evaluationSeconds = (System.nanoTime() - t0) / 1e9;
                evaluations.increment();
                if (rs.lastError != null) {
                    evaluationFailures.increment();
                    problems.warn("eval:" + rs.rule.name(), "alerting: rule {} ({}) failed: {}", rs.rule.name(),
                            rs.rule.file(), rs.lastError);
                }
            }
        }
        emit(changes, since);
        if (!changes.isEmpty()) {
            saveState();
            notifyAlertmanager(now);
        }
        publish();
    }

    /** Each state change as an event through the pipeline, routed at once. */
    private void emit(List<RuleState.Transition> changes, Map<RuleState, Long> since) {
        for (RuleState.Transition t : changes) {
            LOG.info("alert {} {} -> {} {} value {}", t.rule().rule.name(), t.from(), t.to(), t.alert().labels,
                    Templates.format(t.alert().value));
            events.computeIfAbsent(t.to(), k -> new LongAdder()).increment();
            DecodeResult r = decoder.decode(Json.event(t));
            Ingest in = ingest;
            if (r.message() == null || in == null) {
                eventsLost.increment();
                problems.warn("lost", "alerting: the event of alert {} ({}) could not be offered: {}", t.rule().rule.name(),
                        t.to(), r.message() == null ? r.reason() + " " + r.detail() : "the pipeline is not running");
                continue;
            }
            in.offerAndFlush(r.message());
            Long start = since.get(t.rule());
            if (start != null) {
                detection.record(System.nanoTime() - start);
            }
        }
    }

    private void notifyAlertmanager(long now) {
        if (alertmanager == null) {
            return;
        }
        long resend = config.alertmanager_resend_delay_ms();
        long validFor = 4 * Math.max(resend, config.evaluation_interval_ms());
        List<AlertmanagerClient.Outgoing> out = new ArrayList<>();
        for (List<RuleState> l : files.values()) {
            for (RuleState rs : l) {
                for (Alert a : rs.alerts.values()) {
                    boolean due = a.sentAt == 0 || now - a.sentAt >= resend;
                    if (a.state == Alert.State.FIRING && due) {
                        out.add(new AlertmanagerClient.Outgoing(a.labels, a.annotations, a.activeAt, now + validFor));
                        a.sentAt = now;
                    } else if (a.state == Alert.State.RESOLVED && due) {
                        out.add(new AlertmanagerClient.Outgoing(a.labels, a.annotations, a.activeAt, a.resolvedAt));
                        a.sentAt = now;
                    }
                }
            }
        }
        if (!out.isEmpty()) {
            notifier.execute(() -> alertmanager.post(out));
        }
    }

    private void saveState() {
        List<RuleState> all = new ArrayList<>();
        files.values().forEach(all::addAll);
        try {
            stateFile.save(all);
        } catch (IOException e) {
            problems.warn("state", "alerting: state file {} not written: {}", stateFile.path(), e.toString());
        }
    }

    private void publish() {
        List<RuleView> rules = new ArrayList<>();
        for (List<RuleState> l : files.values()) {
            for (RuleState rs : l) {
                List<AlertView> alerts = new ArrayList<>();
                for (Alert a : rs.alerts.values()) {
                    if (a.state != Alert.State.RESOLVED) {
                        alerts.add(new AlertView(a.labels, a.annotations, a.state.label(), a.value, a.activeAt));
                    }
                }
                rules.add(new RuleView(rs.rule, rs.state(), rs.health(), rs.lastError, rs.lastEvaluation,
                        rs.evaluationSeconds, List.copyOf(alerts)));
            }
        }
        view = new View(List.copyOf(rules), Map.copyOf(fileErrors));
    }

    View view() {
        return view;
    }

    // ---- rule files (fileinstall's thread) --------------------------------------------------------

    @Override
    public boolean canHandle(File artifact) {
        return RuleFiles.isRuleFile(artifact.getName());
    }

    @Override
    public void install(File artifact) throws IOException {
        apply(artifact);
    }

    @Override
    public void update(File artifact) throws IOException {
        apply(artifact);
    }

    @Override
    public void uninstall(File artifact) {
        String name = artifact.getName();
        submit(() -> load(name, List.of()), "remove " + name);
        LOG.info("alerting: rule file {} removed; its rules are gone", name);
    }

    /** Reads and checks the whole file here; only a valid one replaces the file's rules (on the evaluation thread). */
    void apply(File artifact) throws IOException {
        String name = artifact.getName();
        String text = Files.readString(artifact.toPath(), StandardCharsets.UTF_8);
        List<Rule> rules;
        try {
            rules = RuleFiles.parse(name, text);
        } catch (RuleFileException e) {
            filesRejected.increment();
            LOG.error("alerting: rule file {} rejected ({}); the rules it had before stay in force", artifact, e.getMessage());
            submit(() -> {
                fileErrors.put(name, e.getMessage());
                publish();
            }, "reject " + name);
            return;
        }
        submit(() -> load(name, rules), "load " + name);
        LOG.info("alerting: rule file {} loaded: {} rules", artifact, rules.size());
    }

    private void submit(Runnable r, String what) {
        try {
            evaluator.submit(() -> {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    LOG.error("alerting: {} failed", what, e);
                }
            }).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException
                | java.util.concurrent.RejectedExecutionException e) {
            LOG.warn("alerting: {} did not complete: {}", what, e.toString());
        }
    }

    /** Replaces the rules of one file, carrying the state of rules that stay (same group, name and expr). */
    private void load(String file, List<Rule> rules) {
        long now = System.currentTimeMillis();
        fileErrors.remove(file);
        Map<String, RuleState> previous = new LinkedHashMap<>();
        for (RuleState rs : files.getOrDefault(file, List.of())) {
            previous.put(rs.rule.key(), rs);
        }
        List<RuleState> next = new ArrayList<>();
        for (Rule r : rules) {
            RuleState rs = new RuleState(r);
            RuleState prev = previous.remove(r.key());
            if (prev != null) {
                rs.alerts.putAll(prev.alerts);
                rs.lastError = prev.lastError;
            } else {
                for (Alert a : restored.getOrDefault(r.key(), List.of())) {
                    rs.alerts.put(a.labels, a);
                }
                restored.remove(r.key());
            }
            next.add(rs);
        }
        List<RuleState.Transition> changes = new ArrayList<>();
        for (RuleState gone : previous.values()) {
            changes.addAll(gone.retire(now));
        }
        if (next.isEmpty()) {
            files.remove(file);
        } else {
            files.put(file, next);
        }
        reindex();
        emit(changes, Map.of());
        if (alertmanager != null) {
            // resolved alerts of removed rules still go to Alertmanager once
            List<AlertmanagerClient.Outgoing> out = new ArrayList<>();
            for (RuleState.Transition t : changes) {
                if (t.to().equals("resolved")) {
                    out.add(new AlertmanagerClient.Outgoing(t.alert().labels, t.alert().annotations, t.alert().activeAt, now));
                }
            }
            if (!out.isEmpty()) {
                notifier.execute(() -> alertmanager.post(out));
            }
        }
        saveState();
        evaluate(next, now, Map.of());
        publish();
    }

    private void reindex() {
        Map<String, List<RuleState>> byName = new HashMap<>();
        List<RuleState> any = new ArrayList<>();
        for (List<RuleState> l : files.values()) {
            for (RuleState rs : l) {
                if (rs.rule.metricNames() == null) {
                    any.add(rs);
                } else {
                    for (String n : rs.rule.metricNames()) {
                        byName.computeIfAbsent(n, k -> new ArrayList<>()).add(rs);
                    }
                }
            }
        }
        byName.replaceAll((k, v) -> List.copyOf(v));
        index = new Index(Map.copyOf(byName), List.copyOf(any));
    }

    // ---- /metrics ---------------------------------------------------------------------------------

    @Override
    public void collect(MetricsSink sink) {
        View v = view;
        sink.gauge("signalbox_alerting_rules", v.rules().size());
        sink.gauge("signalbox_alerting_rule_files_invalid", v.fileErrors().size());
        sink.counter("signalbox_alerting_rule_files_rejected_total", filesRejected.sum());
        sink.counter("signalbox_alerting_evaluations_total", evaluations.sum());
        sink.counter("signalbox_alerting_evaluation_failures_total", evaluationFailures.sum());
        sink.counter("signalbox_alerting_events_lost_total", eventsLost.sum());
        events.forEach((state, n) -> sink.counter("signalbox_alerting_events_total", n.sum(), "state", state));
        sink.gauge("signalbox_alerting_recent_samples", recent.size());
        sink.counter("signalbox_alerting_recent_samples_dropped_total", recent.dropped());
        detection.collect(sink, "signalbox_alerting_detection_latency_seconds");
        if (alertmanager != null) {
            sink.counter("signalbox_alerting_alertmanager_sent_total", alertmanager.sent.sum());
            sink.counter("signalbox_alerting_alertmanager_errors_total", alertmanager.failed.sum());
        }
        // Prometheus' ALERTS series: one per pending or firing alert
        for (RuleView r : v.rules()) {
            for (AlertView a : r.alerts()) {
                List<String> labels = new ArrayList<>();
                a.labels().forEach((k, val) -> {
                    if (!k.equals("alertstate")) {
                        labels.add(k);
                        labels.add(val);
                    }
                });
                labels.add("alertstate");
                labels.add(a.state());
                sink.gauge("ALERTS", 1, labels.toArray(String[]::new));
            }
        }
    }

    @Deactivate
    void deactivate() {
        tap.attach(null);
        evaluator.shutdown();
        try {
            if (!evaluator.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("alerting: an evaluation still runs after 10 s; stopping anyway");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        saveState();
        notifier.shutdown();
        LOG.info("alerting stopped: {} rules, state saved to {}", view.rules().size(), stateFile.path());
    }
}
