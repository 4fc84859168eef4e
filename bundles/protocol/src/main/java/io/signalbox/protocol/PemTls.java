package io.signalbox.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS material from PEM files, as design document 002 configures it ({@code cert}, {@code key}),
 * shared by the TCP transport and the HTTP server: the certificate chain, its private key
 * (PKCS#8, {@code BEGIN PRIVATE KEY}; RSA, EC or EdDSA) and optionally the CA certificates that
 * client certificates must chain to (mTLS). Only TLS 1.3 and 1.2 are offered.
 *
 * @param cert the server certificate, then its intermediates
 * @param key  the server's private key
 * @param ca   CA certificates for client certificates, {@code null}: clients are not asked for one
 */
public record PemTls(Path cert, Path key, Path ca) {
    /** The protocols offered; older ones are never enabled. */
    public static final String[] PROTOCOLS = { "TLSv1.3", "TLSv1.2" };

    /**
     * The TLS settings of a listener ({@code tls.enabled}, {@code tls.cert}, {@code tls.key},
     * {@code tls.ca}, already unquoted and trimmed) checked into {@code v}: the files are loaded once,
     * so a missing or wrong file is rejected with the reason. {@code null} when TLS is off (or a
     * problem was recorded).
     */
    public static PemTls of(io.signalbox.api.ConfigValues v, boolean enabled, String cert, String key, String ca) {
        if (!enabled) {
            v.check(cert.isEmpty() && key.isEmpty() && ca.isEmpty(),
                    "'tls.cert', 'tls.key' and 'tls.ca' need tls.enabled=true (TLS is off, nothing would be encrypted)");
            return null;
        }
        v.check(!cert.isEmpty(), "'tls.cert' is required with tls.enabled=true, e.g. tls.cert=/etc/signalbox/cert.pem");
        v.check(!key.isEmpty(), "'tls.key' is required with tls.enabled=true, e.g. tls.key=/etc/signalbox/key.pem");
        if (cert.isEmpty() || key.isEmpty()) {
            return null;
        }
        PemTls t = new PemTls(Path.of(cert), Path.of(key), ca.isEmpty() ? null : Path.of(ca));
        return v.parse(() -> {
            try {
                t.context();
                return t;
            } catch (IOException | GeneralSecurityException e) {
                throw new IllegalArgumentException("TLS: " + e.getMessage(), e);
            }
        });
    }

    private static final Pattern PKCS8 = Pattern.compile(
            "-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");

    /** Whether client certificates are required. */
    public boolean mutual() {
        return ca != null;
    }

    /**
     * What the files look like now (size and modification time of each): when it changes, the
     * material is loaded again ({@link #context()}); a rotation is two renames or writes, so a
     * half-written state simply fails to load and is retried at the next change or poll.
     */
    public String stamp() {
        StringBuilder b = new StringBuilder();
        for (Path p : ca == null ? new Path[] { cert, key } : new Path[] { cert, key, ca }) {
            try {
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                b.append(p).append(':').append(a.size()).append(':').append(a.lastModifiedTime().toMillis())
                        .append(':').append(a.fileKey()).append(';');
            } catch (IOException e) {
                b.append(p).append(":missing;");
            }
        }
        return b.toString();
    }

    /** A key store with the key and its chain under the alias {@code signalbox}, protected by {@code password}. */
    public KeyStore keyStore(char[] password) throws IOException, GeneralSecurityException {
        List<X509Certificate> chain = certificates(cert);
        if (chain.isEmpty()) {
            throw new GeneralSecurityException(cert + " holds no certificate");
        }
        PrivateKey k = privateKey(key);
        if (!fits(k, chain.get(0).getPublicKey())) {
            throw new GeneralSecurityException("the key in " + key + " does not belong to the first certificate in " + cert);
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        try {
            ks.setKeyEntry("signalbox", k, password, chain.toArray(new Certificate[0]));
        } catch (GeneralSecurityException e) {
            throw new GeneralSecurityException("the key in " + key + " does not fit the certificate in " + cert + ": "
                    + e.getMessage(), e);
        }
        return ks;
    }

    /** The CA certificates as a trust store, {@code null} without {@link #ca}. */
    public KeyStore trustStore() throws IOException, GeneralSecurityException {
        if (ca == null) {
            return null;
        }
        List<X509Certificate> cas = certificates(ca);
        if (cas.isEmpty()) {
            throw new GeneralSecurityException(ca + " holds no certificate");
        }
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        int i = 0;
        for (X509Certificate c : cas) {
            ts.setCertificateEntry("ca-" + i++, c);
        }
        return ts;
    }

    /**
     * A server {@link SSLContext} of the files as they are now.
     *
     * @throws IOException              a file cannot be read
     * @throws GeneralSecurityException a file does not hold what it should (the message says which)
     */
    public SSLContext context() throws IOException, GeneralSecurityException {
        char[] password = new char[0];
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(keyStore(password), password);
        TrustManagerFactory tmf = null;
        KeyStore ts = trustStore();
        if (ts != null) {
            tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(ts);
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
        return ctx;
    }

    /** Whether {@code k} is the private half of {@code pub}: a signature made with it verifies. */
    static boolean fits(PrivateKey k, java.security.PublicKey pub) throws GeneralSecurityException {
        String alg = switch (k.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> k.getAlgorithm(); // Ed25519, Ed448, EdDSA
        };
        if (!k.getAlgorithm().equals(pub.getAlgorithm()) && !(k.getAlgorithm().startsWith("Ed") && pub.getAlgorithm().startsWith("Ed"))) {
            return false;
        }
        byte[] probe = "signalbox key check".getBytes(StandardCharsets.US_ASCII);
        java.security.Signature sign = java.security.Signature.getInstance(alg);
        sign.initSign(k);
        sign.update(probe);
        byte[] signature = sign.sign();
        java.security.Signature verify = java.security.Signature.getInstance(alg);
        verify.initVerify(pub);
        verify.update(probe);
        return verify.verify(signature);
    }

    static List<X509Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(file)) {
            Collection<? extends Certificate> all = CertificateFactory.getInstance("X.509").generateCertificates(in);
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : all) {
                out.add((X509Certificate) c);
            }
            return out;
        } catch (java.security.cert.CertificateException e) {
            throw new GeneralSecurityException(file + " is not a PEM certificate file: " + e.getMessage(), e);
        }
    }

    static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
        String text = Files.readString(file, StandardCharsets.US_ASCII);
        Matcher m = PKCS8.matcher(text);
        if (!m.find()) {
            throw new GeneralSecurityException(file + " holds no unencrypted PKCS#8 key (BEGIN PRIVATE KEY); convert"
                    + " one with: openssl pkcs8 -topk8 -nocrypt -in old.pem -out " + file.getFileName());
        }
        byte[] der = Base64.getMimeDecoder().decode(m.group(1));
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String algorithm : new String[] { "RSA", "EC", "Ed25519", "Ed448" }) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException tryNext) {
                // the PKCS#8 header names the algorithm; KeyFactory only accepts its own
            }
        }
        throw new GeneralSecurityException(file + " holds a private key of an unsupported algorithm (RSA, EC, EdDSA)");
    }
}
