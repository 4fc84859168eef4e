package io.signalbox.backend.cloudwatch.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.BackendWriteStats;
import io.signalbox.api.BackendLifecycle;
import io.signalbox.api.Batch;
import io.signalbox.api.BatchRejectedException;
import io.signalbox.api.Message;
import io.signalbox.api.MetricsSink;
import io.signalbox.api.RateLimitedLog;
import io.signalbox.backend.cloudwatch.internal.CallPlanner.Chunk;
import io.signalbox.backend.cloudwatch.internal.CallPlanner.StreamPlan;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClient;
import software.amazon.awssdk.services.cloudwatchlogs.CloudWatchLogsClientBuilder;
import software.amazon.awssdk.services.cloudwatchlogs.model.InputLogEvent;
import software.amazon.awssdk.services.cloudwatchlogs.model.InvalidParameterException;
import software.amazon.awssdk.services.cloudwatchlogs.model.PutLogEventsRequest;
import software.amazon.awssdk.services.cloudwatchlogs.model.PutLogEventsResponse;
import software.amazon.awssdk.services.cloudwatchlogs.model.RejectedLogEventsInfo;
import software.amazon.awssdk.services.cloudwatchlogs.model.ResourceAlreadyExistsException;
import software.amazon.awssdk.services.cloudwatchlogs.model.ResourceNotFoundException;

/**
 * Writes each batch with PutLogEvents, in the calls {@link CallPlanner} cut it into (grouped by
 * log group and stream, sorted by time, within every limit of the service). Each event's message
 * is the raw line.
 *
 * <p>Targets (streams) are written in parallel on a small executor, one call per stream at a
 * time, in time order. If any call fails, {@link #write} throws after the others have finished,
 * and remembers which calls were acknowledged: when the routing channel retries the same batch,
 * only the rest is sent (at-least-once: a call whose response was lost is sent again).
 *
 * <p>Events the service rejects ({@code rejectedLogEventsInfo}: too old, too new, older than
 * the group's retention) and events larger than {@code max.event.bytes} are dropped, counted in
 * {@code signalbox_backend_cloudwatch_rejected_total{backend,reason}} and logged rate-limited;
 * they do not fail the batch, since sending them again cannot succeed.
 *
 * <p>A missing group or stream (ResourceNotFoundException) is created if {@code create.group} /
 * {@code create.stream} allow it, then the call is repeated once.
 *
 * <p>The calls already respect every limit of the service, so an InvalidParameterException from
 * PutLogEvents means the service refused the call's events themselves: sending them again cannot
 * succeed, and the write throws {@link BatchRejectedException} (the routing channel dead-letters
 * the batch) once the other streams' calls have finished, unless one of those failed for a
 * reason worth retrying: then that failure is thrown and the batch retried. Everything else
 * (a missing group or stream without auto-create, throttling, 5xx, unrecognised client, access
 * denied, errors of CreateLogGroup/CreateLogStream) is an ordinary, retried exception.
 */
public final class CloudWatchBackend implements BackendLifecycle.Instance<CloudWatchBackend.Target> {
    private static final Logger LOG = LoggerFactory.getLogger(CloudWatchBackend.class);

    /**
     * Settings with the client built for them: what the component validates and the
     * {@link BackendLifecycle} hands over, since building the client can reject a configuration too
     * (no region in the SDK's default chain).
     */
    record Target(CloudWatchSettings settings, CloudWatchLogsClient client) {
        String describe() {
            return settings.describe();
        }
    }

    private final String name;
    private final RateLimitedLog rateLimited = new RateLimitedLog(LOG);
    private final CallPlanner planner;
    private final ThreadPoolExecutor executor;
    private volatile Target target;
    private volatile boolean closed;

    /** Guarded by {@code this}: a batch that failed part-way and the calls per stream acknowledged. */
    private Batch partial;
    private Map<String, Integer> partialDone;

    private final BackendWriteStats stats;
    private final LongAdder calls = new LongAdder();
    private final LongAdder created = new LongAdder();
    private final ConcurrentHashMap<String, LongAdder> rejected = new ConcurrentHashMap<>();

    /**
     * A backend for validated settings ({@link CloudWatchSettings#of}).
     *
     * @throws IllegalArgumentException if the SDK client cannot be built for them
     */
    public CloudWatchBackend(String name, CloudWatchSettings settings) {
        this(name, target(settings));
    }

    CloudWatchBackend(String name, Target target) {
        this.name = name;
        this.stats = new BackendWriteStats("cloudwatch", name);
        this.target = target;
        AtomicInteger threads = new AtomicInteger();
        int n = target.settings().parallelism();
        this.executor = new ThreadPoolExecutor(n, n, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "signalbox-cloudwatch-" + name + "-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.executor.allowCoreThreadTimeOut(true);
        for (String reason : new String[] {"too_old", "too_new", "expired", "too_large"}) {
            rejected.put(reason, new LongAdder());
        }
        this.planner = new CallPlanner(name, rejected.get("too_large"), rateLimited);
    }

    /**
     * Builds the SDK client for settings: the URL-connection HTTP client passed explicitly (no
     * ServiceLoader lookup inside OSGi), region, endpoint, credentials, timeouts and attempts.
     *
     * @throws IllegalArgumentException if the SDK cannot build it (no region in its default chain)
     */
    static Target target(CloudWatchSettings s) {
        SdkHttpClient http = UrlConnectionHttpClient.builder()
                .connectionTimeout(s.connectTimeout())
                .socketTimeout(s.requestTimeout())
                .build();
        try {
            CloudWatchLogsClientBuilder b = CloudWatchLogsClient.builder()
                    .httpClient(http)
                    .credentialsProvider(credentials(s))
                    .overrideConfiguration(o -> o
                            .apiCallTimeout(s.requestTimeout())
                            .retryStrategy(r -> r.maxAttempts(s.maxAttempts())));
            if (!s.region().isEmpty()) {
                b.region(Region.of(s.region()));
            }
            if (s.endpoint() != null) {
                b.endpointOverride(s.endpoint());
            }
            return new Target(s, b.build());
        } catch (SdkClientException e) {
            http.close();
            throw new IllegalArgumentException("the CloudWatch Logs client cannot be built (without 'region', the SDK's "
                    + "default region chain must find one): " + e.getMessage(), e);
        } catch (RuntimeException e) {
            http.close();
            throw e;
        }
    }

    private static AwsCredentialsProvider credentials(CloudWatchSettings s) {
        if (!s.staticCredentials()) {
            return DefaultCredentialsProvider.builder().build();
        }
        return StaticCredentialsProvider.create(s.sessionToken().isEmpty()
                ? AwsBasicCredentials.create(s.accessKeyId(), s.secretAccessKey())
                : AwsSessionCredentials.create(s.accessKeyId(), s.secretAccessKey(), s.sessionToken()));
    }

    public String name() {
        return name;
    }

    CloudWatchSettings settings() {
        return target.settings();
    }

    /**
     * New settings and client from the next batch on. Waits for a write in flight (which
     * finishes with the old client), then closes the old client and resizes the executor to the
     * new {@code parallelism}. A batch that failed part-way is sent whole again (its calls may now
     * go elsewhere).
     */
    @Override
    public synchronized void update(Target next) {
        Target old = target;
        target = next;
        executor.setMaximumPoolSize(Math.max(executor.getMaximumPoolSize(), next.settings().parallelism()));
        executor.setCorePoolSize(next.settings().parallelism());
        executor.setMaximumPoolSize(next.settings().parallelism());
        partial = null;
        old.client().close();
    }

    @Override
    public synchronized void write(Batch batch) throws Exception {
        if (closed) {
            throw new IllegalStateException("CloudWatch backend \"" + name + "\" is closed");
        }
        if (batch.isEmpty()) {
            return;
        }
        long start = System.nanoTime();
        Target t = target;
        List<StreamPlan> plan = planner.plan(batch, t.settings());
        Map<String, Integer> done = partial == batch ? partialDone : new ConcurrentHashMap<>();
        partial = null;
        partialDone = null;
        Exception failure = null;
        if (plan.size() == 1) {
            try {
                send(t, plan.get(0), done);
            } catch (Exception e) {
                failure = e;
            }
        } else {
            List<Future<?>> futures = new ArrayList<>(plan.size());
            for (StreamPlan p : plan) {
                futures.add(executor.submit(() -> {
                    send(t, p, done);
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                try {
                    f.get();
                } catch (ExecutionException e) {
                    Exception cause = e.getCause() instanceof Exception ex ? ex : e;
                    if (failure == null) {
                        failure = cause;
                    } else if (failure instanceof BatchRejectedException && !(cause instanceof BatchRejectedException)) {
                        // a failure worth retrying wins: the batch is retried, not dead-lettered
                        cause.addSuppressed(failure);
                        failure = cause;
                    } else {
                        failure.addSuppressed(cause);
                    }
                } catch (InterruptedException e) {
                    for (Future<?> other : futures) {
                        other.cancel(true);
                    }
                    Thread.currentThread().interrupt();
                    failure = e;
                    break;
                }
            }
        }
        stats.writeTime(System.nanoTime() - start);
        if (failure != null) {
            stats.failure();
            if (failure instanceof BatchRejectedException rejection) {
                throw withDelivered(rejection, plan, done, batch.size());
            }
            if (!done.isEmpty()) {
                partial = batch;
                partialDone = done;
            }
            throw failure;
        }
        stats.batch();
    }

    /**
     * The rejection as thrown, or, if calls of the batch were acknowledged (before or beside the
     * refused one), with how many messages were delivered, since the whole batch is dead-lettered.
     */
    private static BatchRejectedException withDelivered(BatchRejectedException rejection, List<StreamPlan> plan,
            Map<String, Integer> done, int batchSize) {
        long delivered = CallPlanner.delivered(plan, done);
        if (delivered == 0) {
            return rejection;
        }
        BatchRejectedException e = new BatchRejectedException(rejection.getMessage() + " (" + delivered + " of the "
                + batchSize + " messages of this batch had been delivered)", rejection.getCause());
        for (Throwable s : rejection.getSuppressed()) {
            e.addSuppressed(s);
        }
        return e;
    }

    /** The stream's calls in order, skipping those acknowledged before; one call at a time. */
    private void send(Target t, StreamPlan p, Map<String, Integer> done) throws BatchRejectedException {
        String key = p.key();
        int next = done.getOrDefault(key, 0);
        for (int i = next; i < p.chunks().size(); i++) {
            put(t, p, p.chunks().get(i));
            done.put(key, i + 1);
        }
    }

    private void put(Target t, StreamPlan p, Chunk c) throws BatchRejectedException {
        List<InputLogEvent> events = new ArrayList<>(c.size());
        for (int i = c.from(); i < c.to(); i++) {
            Message m = c.sorted().get(i);
            events.add(InputLogEvent.builder()
                    .timestamp(m.timestamp())
                    .message(new String(m.line(), StandardCharsets.UTF_8))
                    .build());
        }
        PutLogEventsRequest request = PutLogEventsRequest.builder()
                .logGroupName(p.group())
                .logStreamName(p.stream())
                .logEvents(events)
                .build();
        PutLogEventsResponse response;
        try {
            calls.increment();
            response = t.client().putLogEvents(request);
        } catch (ResourceNotFoundException e) {
            CloudWatchSettings s = t.settings();
            if (!s.createGroup() && !s.createStream()) {
                throw new IllegalStateException("CloudWatch backend \"" + name + "\": log group \"" + p.group()
                        + "\" or stream \"" + p.stream() + "\" does not exist and create.group/create.stream are off: "
                        + e.awsErrorDetails().errorMessage(), e);
            }
            create(t, p);
            calls.increment();
            try {
                response = t.client().putLogEvents(request);
            } catch (InvalidParameterException again) {
                throw refused(p, c, again);
            }
        } catch (InvalidParameterException e) {
            throw refused(p, c, e);
        }
        int rejectedCount = countRejected(p, c.size(), response.rejectedLogEventsInfo());
        stats.accepted(c.size() - rejectedCount, c.bytes());
        if (LOG.isDebugEnabled()) {
            LOG.debug("CloudWatch {}: {} events, {} bytes to {}/{}", name, c.size(), c.bytes(), p.group(), p.stream());
        }
    }

    private static BatchRejectedException refused(StreamPlan p, Chunk c, InvalidParameterException e) {
        String said = e.awsErrorDetails() != null && e.awsErrorDetails().errorMessage() != null
                ? e.awsErrorDetails().errorMessage() : String.valueOf(e.getMessage());
        StringBuilder one = new StringBuilder(Math.min(said.length(), 500));
        for (int i = 0; i < said.length() && i < 500; i++) {
            char ch = said.charAt(i);
            one.append(Character.isISOControl(ch) ? ' ' : ch);
        }
        return new BatchRejectedException("CloudWatch Logs refused PutLogEvents of " + c.size() + " events to "
                + p.group() + "/" + p.stream() + " (InvalidParameterException): " + one, e);
    }

    /** Creates the group (if allowed) and the stream (if allowed); "already exists" is fine. */
    private void create(Target t, StreamPlan p) {
        CloudWatchSettings s = t.settings();
        if (s.createGroup()) {
            try {
                t.client().createLogGroup(r -> r.logGroupName(p.group()));
                created.increment();
                LOG.info("CloudWatch backend \"{}\": created log group \"{}\"", name, p.group());
            } catch (ResourceAlreadyExistsException e) {
                LOG.debug("CloudWatch {}: log group \"{}\" exists", name, p.group(), e);
            }
        }
        if (s.createStream()) {
            try {
                t.client().createLogStream(r -> r.logGroupName(p.group()).logStreamName(p.stream()));
                created.increment();
                LOG.info("CloudWatch backend \"{}\": created log stream \"{}\" in \"{}\"", name, p.stream(), p.group());
            } catch (ResourceAlreadyExistsException e) {
                LOG.debug("CloudWatch {}: log stream \"{}/{}\" exists", name, p.group(), p.stream(), e);
            }
        }
    }

    /**
     * Counts the events the service rejected. The indexes refer to the call's events:
     * {@code expiredLogEventEndIndex} and {@code tooOldLogEventEndIndex} are exclusive ends of a
     * prefix, {@code tooNewLogEventStartIndex} is the inclusive start of a suffix. An event both
     * expired and too old counts once, as expired.
     */
    private int countRejected(StreamPlan p, int size, RejectedLogEventsInfo info) {
        if (info == null) {
            return 0;
        }
        int expired = clamp(info.expiredLogEventEndIndex(), size);
        int tooOldEnd = clamp(info.tooOldLogEventEndIndex(), size);
        int tooOld = Math.max(0, tooOldEnd - expired);
        int tooNewStart = info.tooNewLogEventStartIndex() == null ? size : clamp(info.tooNewLogEventStartIndex(), size);
        int tooNew = Math.max(0, size - Math.max(tooNewStart, Math.max(expired, tooOldEnd)));
        count("expired", expired, p);
        count("too_old", tooOld, p);
        count("too_new", tooNew, p);
        return expired + tooOld + tooNew;
    }

    private static int clamp(Integer index, int size) {
        return index == null ? 0 : Math.max(0, Math.min(index, size));
    }

    private void count(String reason, int n, StreamPlan p) {
        if (n > 0) {
            rejected.get(reason).add(n);
            rateLimited.warn(reason, "CloudWatch backend \"{}\": {} events rejected by the service as {} for {}/{}",
                    name, n, reason, p.group(), p.stream());
        }
    }

    @Override
    public void collect(MetricsSink sink) {
        stats.collect(sink);
        sink.counter("signalbox_backend_cloudwatch_calls_total", calls.sum(), "backend", name);
        sink.counter("signalbox_backend_cloudwatch_resources_created_total", created.sum(), "backend", name);
        rejected.forEach((reason, n) -> sink.counter("signalbox_backend_cloudwatch_rejected_total", n.sum(),
                "backend", name, "reason", reason));
    }

    /** Stops the executor and closes the client; writes after this throw. */
    @Override
    public void close() {
        closed = true;
        executor.shutdownNow();
        target.client().close();
    }
}
