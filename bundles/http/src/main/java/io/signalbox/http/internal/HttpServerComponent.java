package io.signalbox.http.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.servlet.runtime.HttpServiceRuntime;
import org.osgi.service.servlet.runtime.HttpServiceRuntimeConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.signalbox.api.ConfigCheck;

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

    @ObjectClassDefinition(name = "Signalbox HTTP",
            description = "The HTTP server of /metrics, /health, the API and HTTP ingest (Felix HTTP, Jetty 12).")
    public @interface Config {
        @AttributeDefinition(description = "Address to listen on; 0.0.0.0 for every interface.")
        String host() default "127.0.0.1";

        @AttributeDefinition(description = "TCP port of the HTTP server.", min = "1", max = "65535")
        int port() default 17001;

        @AttributeDefinition(description = "Largest request body HTTP ingest accepts, in bytes; a longer one is answered 413.",
                min = "1")
        long ingest_max_bytes() default DEFAULT_INGEST_MAX_BYTES;
    }

    private final ConfigurationAdmin configAdmin;
    private volatile String endpoint;

    /**
     * Validates the configuration and hands the address to Felix HTTP. An invalid configuration is
     * logged at ERROR with the reason and the component does not start (Jetty keeps the address the
     * distribution's framework properties give it).
     */
    @Activate
    public HttpServerComponent(Config config, Map<String, Object> properties,
            @Reference(name = "configAdmin") ConfigurationAdmin configAdmin) throws IOException {
        this.configAdmin = configAdmin;
        String problem = problems(config, properties);
        if (problem != null) {
            String message = ConfigCheck.rejection(PID, properties, problem);
            LOG.error("{}", message);
            throw new ConfigCheck.Rejected(message);
        }
        apply(config);
    }

    /** A changed configuration: applied live if it is valid, else logged at ERROR and ignored. */
    @Modified
    void modified(Config config, Map<String, Object> properties) throws IOException {
        String problem = problems(config, properties);
        if (problem != null) {
            LOG.error("{}; keeping the configuration in force", ConfigCheck.rejection(PID, properties, problem));
            return;
        }
        apply(config);
    }

    /** Writes the address into Felix HTTP's configuration if it differs from what is there. */
    private void apply(Config c) throws IOException {
        Configuration felix = configAdmin.getConfiguration(FELIX_HTTP_PID, "?");
        boolean changed = felix.updateIfDifferent(felixProperties(c));
        if (changed) {
            LOG.info("HTTP server address {}:{} handed to Felix HTTP (ingest.max.bytes={})", c.host(), c.port(),
                    c.ingest_max_bytes());
        } else {
            LOG.info("HTTP server address {}:{} unchanged (ingest.max.bytes={})", c.host(), c.port(),
                    c.ingest_max_bytes());
        }
    }

    /** What Felix HTTP is given: plain HTTP on the configured address, no HTTPS, no Server header. */
    static Dictionary<String, Object> felixProperties(Config c) {
        Hashtable<String, Object> d = new Hashtable<>();
        d.put(FELIX_HOST, c.host());
        d.put(FELIX_PORT, c.port());
        d.put(FELIX_HTTP_ENABLE, Boolean.TRUE);
        d.put(FELIX_HTTPS_ENABLE, Boolean.FALSE);
        d.put(FELIX_SERVER_HEADER, Boolean.FALSE);
        return d;
    }

    /** Everything wrong with a configuration (keys, types, ranges, host), or {@code null} if it is valid. */
    static String problems(Config c, Map<String, ?> properties) {
        String keysAndTypes = ConfigCheck.keysAndTypes(Config.class, c, properties);
        if (keysAndTypes != null) {
            return keysAndTypes;
        }
        List<String> out = new ArrayList<>();
        if (c.host() == null || c.host().isBlank()) {
            out.add("host must not be empty");
        } else {
            try {
                InetAddress.getByName(c.host().trim());
            } catch (UnknownHostException e) {
                out.add("host '" + c.host() + "' does not resolve (" + e.getMessage() + ")");
            }
        }
        if (c.port() < 1 || c.port() > 65535) {
            out.add("port must be 1..65535, is " + c.port());
        }
        if (c.ingest_max_bytes() < 1 || c.ingest_max_bytes() > MAX_INGEST_MAX_BYTES) {
            out.add("ingest.max.bytes must be 1.." + MAX_INGEST_MAX_BYTES + ", is " + c.ingest_max_bytes());
        }
        return out.isEmpty() ? null : String.join("; ", out);
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
