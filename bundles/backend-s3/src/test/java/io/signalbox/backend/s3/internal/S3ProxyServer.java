package io.signalbox.backend.s3.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.zip.GZIPInputStream;

import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStore;
import org.jclouds.blobstore.BlobStoreContext;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A real S3 server in the test JVM: S3Proxy over jclouds' in-memory ("transient") blob store, on
 * 127.0.0.1 and a free port, with V4 authentication. It can be stopped and started again on the
 * same port with the same contents (to test failed uploads). One per test class:
 * {@code @RegisterExtension static final S3ProxyServer server = new S3ProxyServer();}
 */
final class S3ProxyServer implements BeforeAllCallback, AfterAllCallback, AutoCloseable {
    static final String ACCESS_KEY = "test-access";
    static final String SECRET_KEY = "test-secret-never-logged";
    static final String BUCKET = "signalbox-test";

    private BlobStoreContext context;
    private BlobStore store;
    private S3Proxy proxy;
    private int port;
    private S3Client reader;

    @Override
    public void beforeAll(ExtensionContext extension) throws Exception {
        Properties p = new Properties();
        context = ContextBuilder.newBuilder("transient").credentials("x", "y").overrides(p).build(BlobStoreContext.class);
        store = context.getBlobStore();
        store.createContainerInLocation(null, BUCKET);
        start(0);
        reader = S3Client.builder()
                .httpClient(UrlConnectionHttpClient.create())
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .endpointOverride(endpoint())
                .forcePathStyle(true)
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                .build();
    }

    private void start(int wantedPort) throws Exception {
        proxy = S3Proxy.builder()
                .blobStore(store)
                .endpoint(URI.create("http://127.0.0.1:" + wantedPort))
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .jettyMaxThreads(32)
                .build();
        proxy.start();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("S3Proxy did not start: " + proxy.getState());
            }
            Thread.onSpinWait();
        }
        port = proxy.getPort();
    }

    URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** Stops serving (connections are refused) until {@link #restart}. */
    void stop() throws Exception {
        proxy.stop();
    }

    /** Serves again on the same port with the same contents. */
    void restart() throws Exception {
        start(port);
    }

    /** Configuration map of a backend writing to this server. */
    Map<String, Object> config(Object... more) {
        Map<String, Object> m = new TreeMap<>();
        m.put("bucket", BUCKET);
        m.put("endpoint", endpoint().toString());
        m.put("path.style", "true");
        m.put("access.key.id", ACCESS_KEY);
        m.put("secret.access.key", SECRET_KEY);
        for (int i = 0; i < more.length; i += 2) {
            m.put((String) more[i], more[i + 1]);
        }
        return m;
    }

    List<String> keys() {
        List<String> keys = new ArrayList<>();
        for (S3Object o : reader.listObjectsV2Paginator(r -> r.bucket(BUCKET)).contents()) {
            keys.add(o.key());
        }
        return keys;
    }

    /** The lines of an object, gunzipped if its key ends with .gz. */
    List<String> lines(String key) {
        ResponseBytes<GetObjectResponse> bytes = reader.getObjectAsBytes(r -> r.bucket(BUCKET).key(key));
        try (InputStream in = key.endsWith(".gz") ? new GZIPInputStream(new ByteArrayInputStream(bytes.asByteArray()))
                : new ByteArrayInputStream(bytes.asByteArray())) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            List<String> out = new ArrayList<>();
            for (String l : text.split("\n")) {
                if (!l.isEmpty()) {
                    out.add(l);
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every line of every object. */
    List<String> allLines() {
        List<String> out = new ArrayList<>();
        for (String k : keys()) {
            out.addAll(lines(k));
        }
        return out;
    }

    @Override
    public void afterAll(ExtensionContext extension) throws Exception {
        close();
    }

    @Override
    public void close() throws Exception {
        reader.close();
        try {
            proxy.stop();
        } finally {
            context.close();
        }
    }
}
