package io.signalbox.protocol;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throwaway certificate authority for TLS tests, made in the test (Bouncy Castle, EC P-256): a
 * CA, server certificates for localhost / 127.0.0.1, client certificates, all written as the PEM
 * files the sidecar reads, and client {@link SSLContext}s.
 */
public final class TestCa {
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    /** One issued (or the CA's own) certificate with its keys. */
    public record Identity(X509Certificate certificate, KeyPair keys, Identity issuer) {
        /** The certificate, then the issuer's (not the root's own twice), as PEM. */
        public void writeCertificate(Path file) throws IOException {
            StringBuilder b = new StringBuilder(pem("CERTIFICATE", encoded(certificate)));
            Files.writeString(file, b.toString(), StandardCharsets.US_ASCII);
        }

        /** The private key as unencrypted PKCS#8 PEM. */
        public void writeKey(Path file) throws IOException {
            Files.writeString(file, pem("PRIVATE KEY", keys.getPrivate().getEncoded()), StandardCharsets.US_ASCII);
        }
    }

    private final Identity ca;

    private TestCa(Identity ca) {
        this.ca = ca;
    }

    /** A new self-signed CA named {@code name}. */
    public static TestCa create(String name) throws GeneralSecurityException {
        try {
            KeyPair keys = keyPair();
            X500Name subject = new X500Name("CN=" + name);
            X509v3CertificateBuilder b = builder(subject, subject, keys);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            return new TestCa(new Identity(sign(b, keys), keys, null));
        } catch (IOException | org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    public Identity identity() {
        return ca;
    }

    /** Writes the CA certificate as PEM (what a client or the sidecar's {@code tls.ca} trusts). */
    public void writeCertificate(Path file) throws IOException {
        ca.writeCertificate(file);
    }

    /** A server certificate for {@code localhost} and {@code 127.0.0.1}. */
    public Identity server(String name) throws GeneralSecurityException {
        return issue(name, KeyPurposeId.id_kp_serverAuth);
    }

    /** A client certificate. */
    public Identity client(String name) throws GeneralSecurityException {
        return issue(name, KeyPurposeId.id_kp_clientAuth);
    }

    private Identity issue(String name, KeyPurposeId purpose) throws GeneralSecurityException {
        try {
            KeyPair keys = keyPair();
            X509v3CertificateBuilder b = builder(new X500Name(ca.certificate().getSubjectX500Principal().getName()),
                    new X500Name("CN=" + name), keys);
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                new GeneralName(GeneralName.dNSName, "localhost"),
                new GeneralName(GeneralName.iPAddress, InetAddress.getLoopbackAddress().getHostAddress()) }));
            return new Identity(sign(b, ca.keys()), keys, ca);
        } catch (IOException | org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    /** A client context that trusts this CA and presents {@code identity} (none when {@code null}). */
    public SSLContext clientContext(Identity identity) throws GeneralSecurityException, IOException {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", ca.certificate());
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (identity != null) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("me", identity.keys().getPrivate(), new char[0],
                    new java.security.cert.Certificate[] { identity.certificate() });
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, new char[0]);
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
                Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(2))), subject,
                keys.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer)
            throws org.bouncycastle.operator.OperatorCreationException, GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(
                b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
    }

    private static byte[] encoded(X509Certificate c) {
        try {
            return c.getEncoded();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    static String pem(String type, byte[] der) {
        StringWriter w = new StringWriter();
        w.write("-----BEGIN " + type + "-----\n");
        w.write(Base64.getMimeEncoder(64, new byte[] { '\n' }).encodeToString(der));
        w.write("\n-----END " + type + "-----\n");
        return w.toString();
    }
}
