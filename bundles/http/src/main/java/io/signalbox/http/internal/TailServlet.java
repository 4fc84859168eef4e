package io.signalbox.http.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.servlet.whiteboard.propertytypes.HttpWhiteboardServletPattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.Batch;
import io.signalbox.api.BatchListener;
import io.signalbox.api.ConfigCheck;
import io.signalbox.api.ConfigValues;
import io.signalbox.api.Message;
import io.signalbox.api.MessageType;
import jakarta.servlet.Servlet;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * {@code GET /api/tail?source=&type=}: a live stream of the messages as they are routed, one
 * received line per line ({@code application/x-ndjson}, chunked), until the client goes away.
 *
 * <p>It sees every routed batch as a {@link BatchListener}; with no client connected that costs
 * one volatile read per batch. Each client has a bounded queue ({@code queue.messages}); what does
 * not fit is dropped, counted, and reported in the stream as a line
 * {@code {"signalbox_tail_dropped":N}} (N: the total for this stream so far) after the lines that
 * did fit, so the routing thread never waits for a slow client. When nothing was routed for
 * {@code keepalive.seconds} an empty line is written, which is how a client that went away is
 * noticed (and keeps idle connections from timing out).
 */
@Component(name = TailServlet.PID, configurationPid = TailServlet.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, service = { Servlet.class, BatchListener.class })
@Designate(ocd = TailServlet.Config.class)
@HttpWhiteboardServletPattern(TailServlet.PATH)
public final class TailServlet extends HttpServlet implements BatchListener {
    /** Configuration PID (stable). */
    public static final String PID = "io.signalbox.http.tail";
    static final String PATH = "/api/tail";
    static final String CONTENT_TYPE = "application/x-ndjson";

    @ObjectClassDefinition(id = PID, name = "Signalbox HTTP live tail", description = "GET /api/tail?source=&type=: the messages as they are routed.")
    public @interface Config {
        @AttributeDefinition(description = "Clients streaming at the same time; more are refused with 503.") int max_clients() default 8;
        @AttributeDefinition(description = "Messages that may wait for one client; beyond, they are dropped and counted.") int queue_messages() default 10000;
        @AttributeDefinition(description = "Seconds without a routed message after which an empty line is written.") int keepalive_seconds() default 5;
    }

    /**
     * The settings in force, validated once.
     *
     * @param maxClients       clients streaming at the same time
     * @param queueMessages    messages that may wait for one client
     * @param keepaliveSeconds seconds without a routed message before an empty line is written
     */
    record Settings(int maxClients, int queueMessages, int keepaliveSeconds) {
        /** @throws ConfigCheck.Rejected naming every problem of the configuration */
        static Settings of(Config c, Map<String, ?> properties) {
            ConfigValues v = ConfigValues.of(Config.class, c, LiveSettings.configured(properties));
            int maxClients = v.atLeast("max.clients", c.max_clients(), 1);
            int queueMessages = v.atLeast("queue.messages", c.queue_messages(), 1);
            int keepaliveSeconds = v.atLeast("keepalive.seconds", c.keepalive_seconds(), 1);
            v.done();
            return new Settings(maxClients, queueMessages, keepaliveSeconds);
        }

        @Override
        public String toString() {
            return "max.clients=" + maxClients + ", queue.messages=" + queueMessages + ", keepalive.seconds="
                    + keepaliveSeconds;
        }
    }

    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(TailServlet.class);
    private static final TailServletClient[] NONE = new TailServletClient[0];
    private static final byte[] NEWLINE = { '\n' };

    /** Copy-on-write under {@code this}: the routing thread only reads the array. */
    private transient volatile TailServletClient[] clients = NONE;
    private final transient LiveSettings<Settings> settings;
    private transient volatile boolean stopped;

    /** Rejects (ERROR, counted, does not start) a configuration with unknown keys, wrong types or values out of range. */
    @Activate
    public TailServlet(Config config, Map<String, Object> properties) {
        settings = LiveSettings.activate(LOG, PID, "Live tail on " + PATH, properties,
                () -> Settings.of(config, properties));
    }

    /** Applies a changed configuration to new clients, or logs why it is rejected and keeps the one in force. */
    @Modified
    void modified(Config c, Map<String, Object> properties) {
        settings.modify(properties, () -> Settings.of(c, properties));
    }

    /** Ends every stream (each gets its final drop report if it dropped anything). */
    @Deactivate
    void deactivate() {
        TailServletClient[] open;
        synchronized (this) {
            stopped = true;
            open = clients;
            clients = NONE;
        }
        for (TailServletClient c : open) {
            c.close();
        }
        if (open.length > 0) {
            LOG.info("Live tail stopped: {} stream(s) ended", open.length);
        }
    }

    // ------------------------------------------------------------ BatchListener (routing thread)

    @Override
    public void routed(Batch batch, List<String> backends) {
        TailServletClient[] cs = clients;
        for (TailServletClient c : cs) {
            c.offer(batch);
        }
    }

    // ------------------------------------------------------------ HTTP

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        if (!"GET".equals(req.getMethod())) {
            ApiJson.methodNotAllowed(resp, "GET");
            return;
        }
        String source = ReadOnlyServlet.parameter(req, "source");
        String typeName = ReadOnlyServlet.parameter(req, "type");
        MessageType type = null;
        if (typeName != null) {
            type = MessageType.fromWireName(typeName);
            if (type == null) {
                ApiJson.sendError(resp, HttpServletResponse.SC_BAD_REQUEST, "type must be one of " + wireNames() + ", is '"
                        + typeName + "'");
                return;
            }
        }
        Settings c = settings.get();
        TailServletClient client = new TailServletClient(source, type, c.queueMessages());
        if (!register(client, c.maxClients())) {
            resp.setHeader("Retry-After", "5");
            ApiJson.sendError(resp, HttpServletResponse.SC_SERVICE_UNAVAILABLE, stopped ? "the live tail is stopping"
                    : "too many live tail clients (max.clients=" + c.maxClients() + ")");
            return;
        }
        LOG.info("Live tail client {} connected (source={}, type={})", req.getRemoteAddr(),
                source == null ? "*" : source, typeName == null ? "*" : typeName);
        try {
            resp.setStatus(HttpServletResponse.SC_OK);
            resp.setContentType(CONTENT_TYPE);
            resp.setHeader("Cache-Control", "no-store");
            ServletOutputStream out = resp.getOutputStream();
            resp.flushBuffer(); // headers now: the client knows it is connected before the first line
            stream(client, out, TimeUnit.SECONDS.toMillis(c.keepaliveSeconds()));
            LOG.info("Live tail client {} ended by the server ({} messages dropped)", req.getRemoteAddr(),
                    client.dropped());
        } catch (IOException gone) {
            LOG.info("Live tail client {} went away ({}; {} messages dropped)", req.getRemoteAddr(), gone.toString(),
                    client.dropped());
        } catch (InterruptedException e) {
            LOG.info("Live tail client {} interrupted", req.getRemoteAddr());
            Thread.currentThread().interrupt();
        } finally {
            unregister(client);
        }
    }

    /**
     * Writes what is routed for {@code client} until it is closed; throws when the client has gone.
     * After each burst of lines, the drop count if it grew, then one flush.
     */
    static void stream(TailServletClient client, OutputStream out, long keepaliveMillis)
            throws IOException, InterruptedException {
        long reported = 0;
        while (!client.isClosed()) {
            Batch b = client.poll(keepaliveMillis);
            if (b == null) {
                if (!client.isClosed()) {
                    out.write(NEWLINE);
                    out.flush();
                }
                continue;
            }
            do {
                for (Message m : b.messages()) {
                    if (client.accepts(m)) {
                        out.write(m.line());
                        out.write(NEWLINE);
                    }
                }
                b = client.poll(0);
            } while (b != null);
            reported = reportDrops(client, out, reported);
            out.flush();
        }
        reportDrops(client, out, reported);
        out.flush();
    }

    private static long reportDrops(TailServletClient client, OutputStream out, long reported) throws IOException {
        long dropped = client.dropped();
        if (dropped != reported) {
            byte[] line = ApiJson.render(g -> {
                g.writeStartObject();
                g.writeNumberField("signalbox_tail_dropped", dropped);
                g.writeEndObject();
            });
            out.write(line);
            out.write(NEWLINE);
        }
        return dropped;
    }

    private synchronized boolean register(TailServletClient client, int max) {
        if (stopped || clients.length >= max) {
            return false;
        }
        TailServletClient[] more = Arrays.copyOf(clients, clients.length + 1);
        more[more.length - 1] = client;
        clients = more;
        return true;
    }

    private synchronized void unregister(TailServletClient client) {
        client.close();
        TailServletClient[] cs = clients;
        for (int i = 0; i < cs.length; i++) {
            if (cs[i] == client) {
                TailServletClient[] fewer = new TailServletClient[cs.length - 1];
                System.arraycopy(cs, 0, fewer, 0, i);
                System.arraycopy(cs, i + 1, fewer, i, cs.length - i - 1);
                clients = fewer;
                return;
            }
        }
    }

    /** The settings in force. */
    Settings settings() {
        return settings.get();
    }

    /** Clients streaming now. */
    int clientCount() {
        return clients.length;
    }

    private static String wireNames() {
        StringBuilder sb = new StringBuilder();
        for (MessageType t : MessageType.values()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(t.wireName());
        }
        return sb.toString();
    }
}
