package io.signalbox.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PemTlsTest {
    @TempDir
    Path dir;

    @Test
    void aCertificateAndItsPkcs8KeyMakeAServerContext() throws Exception {
        TestCa ca = TestCa.create("test-ca");
        TestCa.Identity server = ca.server("sidecar");
        server.writeCertificate(dir.resolve("cert.pem"));
        server.writeKey(dir.resolve("key.pem"));
        ca.writeCertificate(dir.resolve("ca.pem"));

        PemTls tls = new PemTls(dir.resolve("cert.pem"), dir.resolve("key.pem"), dir.resolve("ca.pem"));

        assertThat(tls.context().getProtocol()).isEqualTo("TLS");
        assertThat(tls.trustStore().size()).isEqualTo(1);
        assertThat(tls.mutual()).isTrue();
    }

    @Test
    void aKeyThatDoesNotFitOrIsNotPkcs8IsNamed() throws Exception {
        TestCa ca = TestCa.create("test-ca");
        ca.server("one").writeCertificate(dir.resolve("cert.pem"));
        ca.server("two").writeKey(dir.resolve("key.pem"));
        Files.writeString(dir.resolve("rsa.pem"), "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n");

        assertThatThrownBy(() -> new PemTls(dir.resolve("cert.pem"), dir.resolve("rsa.pem"), null).context())
                .hasMessageContaining("no unencrypted PKCS#8 key").hasMessageContaining("openssl pkcs8");
        assertThatThrownBy(() -> new PemTls(dir.resolve("key.pem"), dir.resolve("key.pem"), null).context())
                .hasMessageContaining("is not a PEM certificate file");
        assertThatThrownBy(() -> new PemTls(dir.resolve("cert.pem"), dir.resolve("key.pem"), null).context())
                .hasMessageContaining("does not belong to the first certificate");
    }

    @Test
    void theStampChangesWhenAFileIsReplaced() throws Exception {
        TestCa ca = TestCa.create("test-ca");
        ca.server("one").writeCertificate(dir.resolve("cert.pem"));
        ca.server("one").writeKey(dir.resolve("key.pem"));
        PemTls tls = new PemTls(dir.resolve("cert.pem"), dir.resolve("key.pem"), null);
        String before = tls.stamp();

        Path next = dir.resolve("cert.pem.new");
        ca.server("two").writeCertificate(next);
        Files.move(next, dir.resolve("cert.pem"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);

        assertThat(tls.stamp()).isNotEqualTo(before);
    }
}
