package io.signalbox.http.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Collection;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
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
import io.signalbox.protocol.PemTls;

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
        @AttributeDefinition(description = "HTTPS (TLS 1.2+) instead of HTTP on this port, with tls.cert and tls.key.") boolean tls_enabled() default false;
        @AttributeDefinition(description = "PEM file: the server certificate, then its intermediates.") String tls_cert() default "";
        @AttributeDefinition(description = "PEM file: the server's private key (PKCS#8, unencrypted).") String tls_key() default "";
        @AttributeDefinition(description = "PEM file: CA certificates client certificates must chain to; set = clients must present one.") String tls_ca() default "";
        @AttributeDefinition(description = "How often the PEM files are checked; a change restarts Jetty with the new certificate.", min = "1") int tls_reload_seconds() default 10;
    }

    /**
     * The settings in force, validated once (keys, types, ranges, a host that resolves).
     *
     * @param host           the address to listen on
     * @param port           its port
     * @param ingestMaxBytes the largest HTTP ingest body
     * @param guard          who may read and write ({@link GuardFilter})
     * @param tls            the PEM files of HTTPS, {@code null} for plain HTTP
     * @param tlsReloadSeconds how often the PEM files are checked for a change
     */
    record Settings(String host, int port, long ingestMaxBytes, GuardSettings guard, PemTls tls, int tlsReloadSeconds) {
        /** Plain HTTP (tests). */
        Settings(String host, int port, long ingestMaxBytes, GuardSettings guard) {
            this(host, port, ingestMaxBytes, guard, null, 10);
        }

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
            PemTls tls = tls(v, c);
            int reload = v.atLeast("tls.reload.seconds", c.tls_reload_seconds(), 1);
            v.done();
            return new Settings(host, port, ingestMaxBytes, guard, tls, reload);
        }

        /** The PEM files with {@code tls.enabled=true}, loaded once so that a wrong file is rejected with the reason. */
        private static PemTls tls(ConfigValues v, Config c) {
            return PemTls.of(v, c.tls_enabled(), ConfigValues.unquote(c.tls_cert()).trim(),
                    ConfigValues.unquote(c.tls_key()).trim(), ConfigValues.unquote(c.tls_ca()).trim());
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
            return "host=" + host + ", port=" + port + ", ingest.max.bytes=" + ingestMaxBytes + ", " + guard
                    + (tls == null ? ", tls: off" : ", tls: cert=" + tls.cert() + " key=" + tls.key()
                            + (tls.mutual() ? " client certificates required, ca=" + tls.ca() : ""));
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
        tlsWatch.shutdownNow();
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

    /** Key and trust stores written for Jetty from the PEM files, and the stamp of those files. */
    record Stores(Path keyStore, Path trustStore, String password, String stamp) {
    }

    private volatile Stores stores;
    private final ScheduledExecutorService tlsWatch = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "signalbox-http-tls-reload");
        t.setDaemon(true);
        return t;
    });
    private volatile ScheduledFuture<?> tlsPoll;

    /** Where the stores for Jetty go: {@code data/http-tls} of the distribution (0700, files 0600). */
    static Path storeDir() {
        String home = System.getProperty("signalbox.home");
        return (home == null || home.isBlank() ? Path.of("data") : Path.of(home, "data")).resolve("http-tls")
                .toAbsolutePath();
    }

    /**
     * Jetty (Felix HTTP) reads key stores, not PEM files: the PEM files are written into a PKCS#12
     * key store (and trust store for {@code tls.ca}) under a new name with a random password, so that
     * Felix HTTP sees a changed configuration and restarts Jetty with the new certificate.
     */
    private Stores writeStores(PemTls tls) throws IOException, GeneralSecurityException {
        String stamp = tls.stamp();
        Path dir = storeDir();
        Files.createDirectories(dir);
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException e) {
            LOG.debug("no POSIX permissions for {}", dir);
        }
        byte[] random = new byte[18];
        new SecureRandom().nextBytes(random);
        String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        String name = Long.toString(System.currentTimeMillis(), 36) + "-" + password.substring(0, 6);
        Path ks = write(tls.keyStore(password.toCharArray()), dir.resolve("server-" + name + ".p12"), password);
        KeyStore trust = tls.trustStore();
        Path ts = trust == null ? null : write(trust, dir.resolve("trust-" + name + ".p12"), password);
        return new Stores(ks, ts, password, stamp);
    }

    private static Path write(KeyStore store, Path file, String password) throws IOException, GeneralSecurityException {
        Files.deleteIfExists(file);
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            Files.createFile(file);
        }
        try (var out = Files.newOutputStream(file)) {
            store.store(out, password.toCharArray());
        }
        return file;
    }

    private static void delete(Stores old) {
        if (old == null) {
            return;
        }
        for (Path p : new Path[] { old.keyStore(), old.trustStore() }) {
            if (p != null) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    LOG.debug("Could not remove {}: {}", p, e.toString());
                }
            }
        }
    }

    /** Checks the PEM files; a change writes new stores and hands them to Felix HTTP (Jetty restarts). */
    synchronized boolean reloadTls() {
        Settings s = settings;
        Stores old = stores;
        if (s.tls() == null || old == null || s.tls().stamp().equals(old.stamp())) {
            return false;
        }
        try {
            stores = writeStores(s.tls());
            configAdmin.getConfiguration(FELIX_HTTP_PID, "?").updateIfDifferent(felixProperties(s, stores));
            LOG.info("HTTP server: TLS certificate reloaded from {}; Jetty restarts with it", s.tls().cert());
            delete(old);
            return true;
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            LOG.warn("HTTP server: the changed TLS files cannot be loaded ({}); the certificate in force stays, tried"
                    + " again at the next change", e.getMessage());
            return false;
        }
    }

    /** Writes the address into Felix HTTP's configuration if it differs from what is there. */
    private synchronized void apply(Settings s) throws IOException {
        Stores old = stores;
        if (s.tls() != null) {
            try {
                stores = writeStores(s.tls());
            } catch (GeneralSecurityException e) {
                throw new IOException("TLS: " + e.getMessage(), e);
            }
        } else {
            stores = null;
        }
        ScheduledFuture<?> poll = tlsPoll;
        if (poll != null) {
            poll.cancel(false);
        }
        if (s.tls() != null) {
            tlsPoll = tlsWatch.scheduleWithFixedDelay(this::reloadTls, s.tlsReloadSeconds(), s.tlsReloadSeconds(),
                    TimeUnit.SECONDS);
        }
        Configuration felix = configAdmin.getConfiguration(FELIX_HTTP_PID, "?");
        boolean changed = felix.updateIfDifferent(felixProperties(s, stores));
        if (old != null && old != stores) {
            delete(old);
        }
        LOG.info("HTTP server address {}:{} {} (ingest.max.bytes={}, {})", s.host(), s.port(),
                changed ? "handed to Felix HTTP" : "unchanged", s.ingestMaxBytes(), s.guard());
        if (!loopback(s.host()) && !(s.guard().readSecrets().enabled() && s.guard().writeSecrets().enabled())) {
            LOG.warn("HTTP server listens on {}:{}, reachable beyond this host, without both auth.read.secret and"
                    + " auth.write.secret: anyone who can reach it can {} (see README, Security)",
                    s.host(), s.port(), s.guard().writeSecrets().enabled() ? "read traces and messages"
                            : "write events and read traces and messages");
        } else if (!loopback(s.host()) && s.tls() == null) {
            LOG.warn("HTTP server listens on {}:{}, reachable beyond this host, without TLS: the Bearer secrets and"
                    + " every answer cross the network in clear (see README, Security)", s.host(), s.port());
        }
    }

    static boolean loopback(String host) {
        String h = host.trim();
        return h.equals("localhost") || h.startsWith("127.") || h.equals("::1") || h.equals("[::1]");
    }

    /** What Felix HTTP is given: plain HTTP on the configured address, no HTTPS, no Server header. */
    static Dictionary<String, Object> felixProperties(Settings c) {
        return felixProperties(c, null);
    }

    /**
     * With {@code stores}: HTTPS only, on the configured port (plain HTTP off), TLS 1.2 and 1.3,
     * client certificates required when there is a trust store.
     */
    static Dictionary<String, Object> felixProperties(Settings c, Stores stores) {
        Hashtable<String, Object> d = new Hashtable<>();
        d.put(FELIX_HOST, c.host());
        d.put(FELIX_SERVER_HEADER, Boolean.FALSE);
        if (stores == null) {
            d.put(FELIX_PORT, c.port());
            d.put(FELIX_HTTP_ENABLE, Boolean.TRUE);
            d.put(FELIX_HTTPS_ENABLE, Boolean.FALSE);
            return d;
        }
        d.put(FELIX_HTTP_ENABLE, Boolean.FALSE);
        d.put(FELIX_HTTPS_ENABLE, Boolean.TRUE);
        d.put("org.osgi.service.http.port.secure", c.port());
        d.put("org.apache.felix.https.keystore", stores.keyStore().toString());
        d.put("org.apache.felix.https.keystore.type", "PKCS12");
        d.put("org.apache.felix.https.keystore.password", stores.password());
        d.put("org.apache.felix.https.keystore.key.password", stores.password());
        d.put("org.apache.felix.https.jetty.protocols.included", String.join(",", PemTls.PROTOCOLS));
        if (stores.trustStore() != null) {
            d.put("org.apache.felix.https.truststore", stores.trustStore().toString());
            d.put("org.apache.felix.https.truststore.type", "PKCS12");
            d.put("org.apache.felix.https.truststore.password", stores.password());
            d.put("org.apache.felix.https.clientcertificate", "needs");
        } else {
            d.put("org.apache.felix.https.clientcertificate", "none");
        }
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
