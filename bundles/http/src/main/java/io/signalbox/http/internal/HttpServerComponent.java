package io.signalbox.http.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Collection;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;

import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.AttributeType;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.servlet.runtime.HttpServiceRuntime;
import org.osgi.service.servlet.runtime.HttpServiceRuntimeConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.ConfigCheck;
import io.signalbox.api.ConfigValues;

/**
 * Owns the address of the HTTP server. Felix HTTP (Jetty 12) reads its own configuration from
 * Config Admin PID {@value #FELIX_HTTP_PID}; this component validates PID {@value #PID} as a whole
 * (unknown keys, types, ranges, a host that resolves) and writes the address into Felix HTTP's
 * configuration, so that one file, {@code etc/io.signalbox.http.cfg}, moves the server live.
 * Felix HTTP restarts Jetty on the new address; the servlets stay registered. An invalid change
 * is logged at ERROR and counted ({@link ConfigCheck}) and the address in force is kept.
 *
 * <p>Without a configuration file the defaults apply (127.0.0.1:17001). The distribution starts
 * Felix HTTP disabled ({@code org.apache.felix.http.enable=false}), so Jetty listens nowhere before
 * this component has applied a valid configuration.
 */
@Component(name = HttpServerComponent.PID, configurationPid = HttpServerComponent.PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL, immediate = true, service = {})
@Designate(ocd = HttpServerComponent.Config.class)
public final class HttpServerComponent {
    /** Configuration PID (stable: deployed config files name it). */
    public static final String PID = "io.signalbox.http";
    /** Felix HTTP's own configuration PID. */
    static final String FELIX_HTTP_PID = "org.apache.felix.http";
    /** Felix HTTP's key for the address to bind ({@code org.osgi.service.http.host} is not read by Jetty 12's bundle). */
    static final String FELIX_HOST = "org.apache.felix.http.host";
    static final String FELIX_PORT = "org.osgi.service.http.port";
    static final String FELIX_HTTP_ENABLE = "org.apache.felix.http.enable";
    static final String FELIX_HTTPS_ENABLE = "org.apache.felix.https.enable";
    static final String FELIX_SERVER_HEADER = "org.apache.felix.http.jetty.sendServerHeader";
    static final long DEFAULT_INGEST_MAX_BYTES = 1024 * 1024;
    /** The largest body a byte array can hold (the ingest servlet reads a body into one). */
    static final long MAX_INGEST_MAX_BYTES = Integer.MAX_VALUE - 64;

    private static final Logger LOG = LoggerFactory.getLogger(HttpServerComponent.class);

    @ObjectClassDefinition(name = "Signalbox HTTP", description = "The HTTP server of /metrics, /health, the API and HTTP ingest (Felix HTTP, Jetty 12).")
    public @interface Config {
        @AttributeDefinition(description = "Address to listen on; 0.0.0.0 for every interface.") String host() default "127.0.0.1";
        @AttributeDefinition(description = "TCP port of the HTTP server.", min = "1", max = "65535") int port() default 17001;
        @AttributeDefinition(description = "Largest request body HTTP ingest accepts, in bytes; a longer one is answered 413.", min = "1") long ingest_max_bytes() default DEFAULT_INGEST_MAX_BYTES;
        @AttributeDefinition(description = "Bearer secret for reading (GET: API, traces, tail, metrics; not /health); use ${env:NAME}. Empty: open.", type = AttributeType.PASSWORD) String auth_read_secret() default "";
        @AttributeDefinition(description = "Bearer secret for writing (POST: HTTP ingest); use ${env:NAME}. Empty: open.", type = AttributeType.PASSWORD) String auth_write_secret() default "";
        @AttributeDefinition(description = "Web origins (scheme://host[:port]) allowed to call from a browser (CORS); empty: none.") String[] cors_origins() default {};
        @AttributeDefinition(description = "Host header values accepted besides the configured host and localhost forms.") String[] allowed_hosts() default {};
    }

    /**
     * The settings in force, validated once (keys, types, ranges, a host that resolves).
     *
     * @param host           the address to listen on
     * @param port           its port
     * @param ingestMaxBytes the largest HTTP ingest body
     * @param guard          who may read and write ({@link GuardFilter})
     */
    record Settings(String host, int port, long ingestMaxBytes, GuardSettings guard) {
        /** @throws ConfigCheck.Rejected naming every problem of the configuration */
        static Settings of(Config c, Map<String, ?> properties) {
            ConfigValues v = ConfigValues.of(Config.class, c, properties);
            String host = v.required("host", c.host(), "127.0.0.1");
            if (!host.isEmpty()) {
                v.parse(() -> resolve(host));
            }
            int port = v.range("port", c.port(), 1, 65535);
            long ingestMaxBytes = v.range("ingest.max.bytes", c.ingest_max_bytes(), 1, MAX_INGEST_MAX_BYTES);
            GuardSettings guard = GuardSettings.of(v, host, c.auth_read_secret(), c.auth_write_secret(),
                    c.cors_origins(), c.allowed_hosts());
            v.done();
            return new Settings(host, port, ingestMaxBytes, guard);
        }

        private static InetAddress resolve(String host) {
            try {
                return InetAddress.getByName(host);
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("'host' = '" + host + "' does not resolve (" + e.getMessage() + ")");
            }
        }

        @Override
        public String toString() {
            return "host=" + host + ", port=" + port + ", ingest.max.bytes=" + ingestMaxBytes + ", " + guard;
        }
    }

    private final ConfigurationAdmin configAdmin;
    private final GuardFilter guard;
    private final ServiceRegistration<?> guardRegistration;
    private volatile Settings settings;
    private volatile String endpoint;

    /**
     * Validates the configuration and hands the address to Felix HTTP. An invalid configuration is
     * logged at ERROR with the reason and counted, and the component does not start (Felix HTTP
     * stays disabled, as the distribution starts it).
     */
    @Activate
    public HttpServerComponent(Config config, Map<String, Object> properties,
            @Reference(name = "configAdmin") ConfigurationAdmin configAdmin, BundleContext context) throws IOException {
        this.configAdmin = configAdmin;
        this.settings = ConfigCheck.activate(LOG, PID, properties, () -> Settings.of(config, properties));
        this.guard = new GuardFilter(settings.guard());
        // the guard is in place before Felix HTTP is given the address (Felix HTTP starts disabled)
        this.guardRegistration = context == null ? null : context.registerService(
                new String[] { jakarta.servlet.Filter.class.getName(), io.signalbox.api.StatsSource.class.getName() },
                guard, guardProperties());
        apply(settings);
    }

    /** Without the framework (tests): no filter is registered. */
    HttpServerComponent(Config config, Map<String, Object> properties, ConfigurationAdmin configAdmin) throws IOException {
        this(config, properties, configAdmin, null);
    }

    /** Whiteboard properties of the guard: every path of the default context, ahead of the servlets. */
    private static Dictionary<String, Object> guardProperties() {
        Hashtable<String, Object> d = new Hashtable<>();
        d.put("osgi.http.whiteboard.filter.pattern", "/*");
        d.put("osgi.http.whiteboard.filter.name", "signalbox-guard");
        d.put(org.osgi.framework.Constants.SERVICE_RANKING, Integer.MAX_VALUE);
        d.put("component.name", "io.signalbox.http.guard");
        return d;
    }

    @Deactivate
    void deactivate() {
        if (guardRegistration != null) {
            try {
                guardRegistration.unregister();
            } catch (IllegalStateException e) {
                LOG.debug("guard filter already unregistered: {}", e.toString());
            }
        }
    }

    GuardFilter guard() {
        return guard;
    }

    /** A changed configuration: applied live if it is valid, else logged at ERROR, counted and ignored. */
    @Modified
    void modified(Config config, Map<String, Object> properties) throws IOException {
        Settings s = ConfigCheck.modify(LOG, PID, properties, () -> Settings.of(config, properties), settings);
        if (s != null) {
            settings = s;
            guard.settings(s.guard());
            apply(s);
        }
    }

    /** Writes the address into Felix HTTP's configuration if it differs from what is there. */
    private void apply(Settings s) throws IOException {
        Configuration felix = configAdmin.getConfiguration(FELIX_HTTP_PID, "?");
        boolean changed = felix.updateIfDifferent(felixProperties(s));
        LOG.info("HTTP server address {}:{} {} (ingest.max.bytes={}, {})", s.host(), s.port(),
                changed ? "handed to Felix HTTP" : "unchanged", s.ingestMaxBytes(), s.guard());
        if (!loopback(s.host()) && !(s.guard().readSecrets().enabled() && s.guard().writeSecrets().enabled())) {
            LOG.warn("HTTP server listens on {}:{}, reachable beyond this host, without TLS and without both"
                    + " auth.read.secret and auth.write.secret: anyone who can reach it can {} (see README, Security)",
                    s.host(), s.port(), s.guard().writeSecrets().enabled() ? "read traces and messages"
                            : "write events and read traces and messages");
        }
    }

    static boolean loopback(String host) {
        String h = host.trim();
        return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("[::1]");
    }

    /** What Felix HTTP is given: plain HTTP on the configured address, no HTTPS, no Server header. */
    static Dictionary<String, Object> felixProperties(Settings c) {
        Hashtable<String, Object> d = new Hashtable<>();
        d.put(FELIX_HOST, c.host());
        d.put(FELIX_PORT, c.port());
        d.put(FELIX_HTTP_ENABLE, Boolean.TRUE);
        d.put(FELIX_HTTPS_ENABLE, Boolean.FALSE);
        d.put(FELIX_SERVER_HEADER, Boolean.FALSE);
        return d;
    }

    /** Logs where the server actually listens whenever Felix HTTP (re)starts Jetty. */
    @Reference(name = "runtime", cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    void bindRuntime(HttpServiceRuntime runtime, Map<String, Object> properties) {
        updatedRuntime(runtime, properties);
    }

    void updatedRuntime(HttpServiceRuntime runtime, Map<String, Object> properties) {
        Object value = properties.get(HttpServiceRuntimeConstants.HTTP_SERVICE_ENDPOINT);
        String now = value instanceof String[] a ? String.join(", ", a)
                : value instanceof Collection<?> all ? all.toString() : String.valueOf(value);
        if (!now.equals(endpoint)) {
            endpoint = now;
            LOG.info("HTTP server listening on {}", now);
        }
    }

    void unbindRuntime(HttpServiceRuntime runtime) {
        endpoint = null;
    }
}
