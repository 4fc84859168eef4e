package io.signalbox.http.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Dictionary;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.util.converter.Converters;

import io.signalbox.api.ConfigCheck;

class HttpServerComponentTest {

    /** A Config Admin holding one configuration in memory, counting the updates that change it. */
    static final class FakeConfigAdmin {
        final Map<String, Dictionary<String, Object>> store = new HashMap<>();
        final List<String> requested = new ArrayList<>();
        int writes;

        ConfigurationAdmin proxy() {
            return (ConfigurationAdmin) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] { ConfigurationAdmin.class }, (p, m, args) -> {
                        if (m.getName().equals("getConfiguration")) {
                            requested.add(args[0] + " @ " + (args.length > 1 ? args[1] : "(bound)"));
                            return configuration((String) args[0]);
                        }
                        throw new UnsupportedOperationException(m.getName());
                    });
        }

        private Configuration configuration(String pid) {
            return (Configuration) Proxy.newProxyInstance(getClass().getClassLoader(),
                    new Class<?>[] { Configuration.class }, (p, m, args) -> {
                        switch (m.getName()) {
                            case "getProperties":
                                return store.get(pid);
                            case "updateIfDifferent": {
                                @SuppressWarnings("unchecked")
                                Dictionary<String, Object> d = (Dictionary<String, Object>) args[0];
                                if (d.equals(store.get(pid))) {
                                    return false;
                                }
                                store.put(pid, new Hashtable<>(Collections.list(d.keys()).stream()
                                        .collect(java.util.stream.Collectors.toMap(k -> k, d::get))));
                                writes++;
                                return true;
                            }
                            case "getPid":
                                return pid;
                            default:
                                throw new UnsupportedOperationException(m.getName());
                        }
                    });
        }
    }

    private final FakeConfigAdmin cm = new FakeConfigAdmin();

    static HttpServerComponent.Config config(Map<String, Object> props) {
        return Converters.standardConverter().convert(props).to(HttpServerComponent.Config.class);
    }

    private HttpServerComponent start(Map<String, Object> props) throws Exception {
        return new HttpServerComponent(config(props), props, cm.proxy());
    }

    @Test
    void defaultsPutFelixHttpOnLoopbackPort17001() throws Exception {
        start(Map.of());
        Dictionary<String, Object> felix = cm.store.get(HttpServerComponent.FELIX_HTTP_PID);
        assertThat(felix.get(HttpServerComponent.FELIX_HOST)).isEqualTo("127.0.0.1");
        assertThat(felix.get(HttpServerComponent.FELIX_PORT)).isEqualTo(17001);
        assertThat(felix.get(HttpServerComponent.FELIX_HTTPS_ENABLE)).isEqualTo(false);
        assertThat(cm.requested).containsExactly("org.apache.felix.http @ ?");
    }

    @Test
    void aChangedAddressIsHandedToFelixHttpAndAnUnchangedOneIsNotRewritten() throws Exception {
        HttpServerComponent c = start(Map.of("port", "17001"));
        assertThat(cm.writes).isEqualTo(1);
        Map<String, Object> moved = Map.of("host", "0.0.0.0", "port", "18001", "ingest.max.bytes", "4096");
        c.modified(config(moved), moved);
        assertThat(cm.store.get(HttpServerComponent.FELIX_HTTP_PID).get(HttpServerComponent.FELIX_PORT)).isEqualTo(18001);
        assertThat(cm.store.get(HttpServerComponent.FELIX_HTTP_PID).get(HttpServerComponent.FELIX_HOST)).isEqualTo("0.0.0.0");
        assertThat(cm.writes).isEqualTo(2);
        c.modified(config(moved), moved);
        assertThat(cm.writes).as("same address: Jetty is not restarted").isEqualTo(2);
    }

    @Test
    void anInvalidConfigurationAtStartIsRejectedCountedAndNotApplied() {
        long before = ConfigCheck.rejectionCount();
        Map<String, Object> props = Map.of("port", "70000", "service.pid", HttpServerComponent.PID);
        assertThatThrownBy(() -> start(props)).isInstanceOf(ConfigCheck.Rejected.class)
                .hasMessageContaining("'port' must be 1..65535, is 70000");
        assertThat(ConfigCheck.rejectionCount()).isEqualTo(before + 1);
        assertThat(cm.store).isEmpty();
    }

    @Test
    void anInvalidChangeKeepsTheAddressInForce() throws Exception {
        HttpServerComponent c = start(Map.of());
        Map<String, Object> bad = Map.of("port", "eighty");
        c.modified(config(bad), bad);
        assertThat(cm.store.get(HttpServerComponent.FELIX_HTTP_PID).get(HttpServerComponent.FELIX_PORT)).isEqualTo(17001);
        assertThat(cm.writes).isEqualTo(1);
    }

    @Test
    void everyBadKeyAndValueIsNamedInOneRejection() {
        assertThat(problems(Map.of("prot", "1"))).contains("prot").contains("port");
        assertThat(problems(Map.of("port", "0"))).contains("'port' must be 1..65535, is 0");
        assertThat(problems(Map.of("port", "x"))).contains("'port' = 'x' is not a valid int");
        assertThat(problems(Map.of("host", " "))).contains("'host' is required, e.g. host=127.0.0.1");
        assertThat(problems(Map.of("host", "no-such-host.invalid"))).contains("'host' = 'no-such-host.invalid' does not resolve");
        assertThat(problems(Map.of("ingest.max.bytes", "0"))).contains("'ingest.max.bytes' must be 1..");
        assertThat(problems(Map.of("ingest.max.bytes", String.valueOf(Integer.MAX_VALUE)))).contains("ingest.max.bytes");
        assertThat(problems(Map.of("port", "0", "ingest.max.bytes", "0"))).contains("'port'", "'ingest.max.bytes'");
        assertThat(problems(Map.of("host", "::1", "port", "8080", "ingest.max.bytes", "1"))).isNull();
        assertThat(problems(Map.of())).isNull();
    }

    @Test
    void theSettingsAreTheValidatedValues() {
        Map<String, Object> props = Map.of("host", "\" 0.0.0.0 \"", "port", "18001", "ingest.max.bytes", "4096");
        assertThat(HttpServerComponent.Settings.of(config(props), props))
                .isEqualTo(new HttpServerComponent.Settings("0.0.0.0", 18001, 4096, new GuardSettings("0.0.0.0",
                        io.signalbox.protocol.SharedSecrets.NONE, io.signalbox.protocol.SharedSecrets.NONE, Set.of(), Set.of())));
    }

    /** The rejection's reason, or {@code null} if the configuration is valid. */
    private static String problems(Map<String, Object> props) {
        try {
            HttpServerComponent.Settings.of(config(props), props);
            return null;
        } catch (ConfigCheck.Rejected e) {
            return e.getMessage();
        }
    }

    @Test
    void withTlsFelixHttpServesHttpsOnlyFromAPrivateKeyStoreMadeOfThePemFiles(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        io.signalbox.protocol.TestCa ca = io.signalbox.protocol.TestCa.create("http-test-ca");
        io.signalbox.protocol.TestCa.Identity server = ca.server("sidecar");
        server.writeCertificate(dir.resolve("cert.pem"));
        server.writeKey(dir.resolve("key.pem"));
        ca.writeCertificate(dir.resolve("ca.pem"));
        String home = System.getProperty("signalbox.home");
        System.setProperty("signalbox.home", dir.toString());
        try {
            Map<String, Object> props = Map.of("port", "18443", "tls.enabled", "true", "tls.cert", dir.resolve("cert.pem").toString(),
                    "tls.key", dir.resolve("key.pem").toString(), "tls.ca", dir.resolve("ca.pem").toString());
            start(props);
            java.util.Dictionary<String, Object> felix = cm.store.get(HttpServerComponent.FELIX_HTTP_PID);
            assertThat(felix.get(HttpServerComponent.FELIX_HTTP_ENABLE)).isEqualTo(Boolean.FALSE);
            assertThat(felix.get(HttpServerComponent.FELIX_HTTPS_ENABLE)).isEqualTo(Boolean.TRUE);
            assertThat(felix.get("org.osgi.service.http.port.secure")).isEqualTo(18443);
            assertThat(felix.get("org.apache.felix.https.clientcertificate")).isEqualTo("needs");
            assertThat(felix.get("org.apache.felix.https.jetty.protocols.included")).isEqualTo("TLSv1.3,TLSv1.2");
            java.nio.file.Path ks = java.nio.file.Path.of((String) felix.get("org.apache.felix.https.keystore"));
            assertThat(ks).startsWith(dir.resolve("data/http-tls"));
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(java.nio.file.Files.getPosixFilePermissions(ks)))
                    .isEqualTo("rw-------");
            java.security.KeyStore loaded = java.security.KeyStore.getInstance("PKCS12");
            try (var in = java.nio.file.Files.newInputStream(ks)) {
                loaded.load(in, ((String) felix.get("org.apache.felix.https.keystore.password")).toCharArray());
            }
            assertThat(((java.security.cert.X509Certificate) loaded.getCertificate("signalbox")).getSubjectX500Principal().getName())
                    .isEqualTo("CN=sidecar");
        } finally {
            if (home == null) {
                System.clearProperty("signalbox.home");
            } else {
                System.setProperty("signalbox.home", home);
            }
        }
    }
}
