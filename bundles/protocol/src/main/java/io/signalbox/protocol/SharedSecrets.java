package io.signalbox.protocol;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;

import io.signalbox.api.ConfigValues;

/**
 * The secrets a transport accepts, each with the sources it may send as. Immutable.
 *
 * <p>A candidate is compared with every secret, always all of them, as SHA-256 digests with
 * {@link MessageDigest#isEqual} (constant time for equal lengths, and the digests hide the
 * secrets' lengths): how long a check takes says nothing about how close a guess was. Secrets are
 * never part of {@link #toString()} or of an exception message.
 */
public final class SharedSecrets {
    /** No authentication: every connection is accepted as it is. */
    public static final SharedSecrets NONE = new SharedSecrets(List.of());

    /** Accepted from a file: at least this many bytes, so that a secret is not guessable by trying. */
    public static final int MIN_LENGTH = 16;

    /** What a matching secret allows. {@code label} names it in logs ("auth.secret" or "file line 3"). */
    public record Grant(String label, SourceGlob sources) {
    }

    private record Entry(byte[] digest, Grant grant) {
    }

    private final List<Entry> entries;

    private SharedSecrets(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    /** Whether any secret is configured, that is whether connections must authenticate. */
    public boolean enabled() {
        return !entries.isEmpty();
    }

    /** How many secrets are accepted. */
    public int size() {
        return entries.size();
    }

    /** The grant of the secret equal to {@code candidate}, or {@code null}. Looks at every secret. */
    public Grant match(String candidate) {
        if (candidate == null) {
            return null;
        }
        byte[] d = sha256(candidate);
        Grant found = null;
        for (Entry e : entries) {
            if (MessageDigest.isEqual(d, e.digest) && found == null) {
                found = e.grant;
            }
        }
        return found;
    }

    /** Collects secrets; {@link #build()} makes the immutable set. */
    public static final class Builder {
        private final List<Entry> entries = new ArrayList<>();

        /**
         * Adds {@code secret}, allowed to send as {@code sources}.
         *
         * @throws IllegalArgumentException if it is shorter than {@value #MIN_LENGTH} characters or
         *         has a control character (the message does not contain the secret)
         */
        public Builder add(String label, String secret, SourceGlob sources) {
            if (secret.length() < MIN_LENGTH) {
                throw new IllegalArgumentException(label + ": a secret needs at least " + MIN_LENGTH
                        + " characters (this one has " + secret.length() + ")");
            }
            for (int i = 0; i < secret.length(); i++) {
                char c = secret.charAt(i);
                if (Character.isISOControl(c) || c == '"' || c == '\\') {
                    throw new IllegalArgumentException(label + ": a secret may not contain control characters,"
                            + " '\"' or '\\' (it travels in a JSON string)");
                }
            }
            entries.add(new Entry(sha256(secret), new Grant(label, sources)));
            return this;
        }

        /**
         * Adds the secrets of a file: one per line, optionally followed by blanks and the glob of the
         * sources it may send as ({@code *} when absent); blank lines and lines starting with
         * {@code #} are skipped.
         *
         * @throws IllegalArgumentException naming the file and line of a bad entry (never its content)
         */
        public Builder addFile(Path file) {
            List<String> lines;
            try {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read secret file " + file + ": " + e.getClass().getSimpleName()
                        + (e.getMessage() != null ? " " + e.getMessage() : ""), e);
            }
            int before = entries.size();
            for (int n = 0; n < lines.size(); n++) {
                String line = lines.get(n).strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                String[] parts = line.split("[ \t]+");
                String label = file + " line " + (n + 1);
                if (parts.length > 2) {
                    throw new IllegalArgumentException(label + ": expected '<secret> [<source glob>]'");
                }
                add(label, parts[0], parts.length == 2 ? SourceGlob.of(parts[1]) : SourceGlob.ANY);
            }
            if (entries.size() == before) {
                throw new IllegalArgumentException("secret file " + file + " has no secret");
            }
            return this;
        }

        public SharedSecrets build() {
            return entries.isEmpty() ? NONE : new SharedSecrets(entries);
        }
    }

    /**
     * The secrets of a transport's configuration, the same keys everywhere: {@code auth.secret}
     * (usually {@code ${env:NAME}}) restricted to the sources of the glob {@code auth.sources}, and
     * the lines of the file {@code auth.secret.file}. Problems are added to {@code v}, never with a
     * secret in them.
     */
    public static SharedSecrets configured(ConfigValues v, String secret, String file, String sources) {
        String value = v.secret("auth.secret", secret);
        String path = ConfigValues.unquote(file).trim();
        SourceGlob glob = v.parse(() -> SourceGlob.of(ConfigValues.unquote(sources).trim()));
        Builder b = builder();
        if (!value.isEmpty() && glob != null) {
            v.parse(() -> b.add("auth.secret", value, glob));
        }
        if (!path.isEmpty()) {
            v.parse(() -> b.addFile(Path.of(path)));
        }
        return b.build();
    }

    public static Builder builder() {
        return new Builder();
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** Never the secrets: how many there are and what they allow. */
    @Override
    public String toString() {
        if (entries.isEmpty()) {
            return "no authentication";
        }
        StringBuilder b = new StringBuilder(entries.size() + " secret(s)");
        for (Entry e : entries) {
            b.append(", ").append(e.grant.label()).append(" -> sources ").append(e.grant.sources());
        }
        return b.toString();
    }
}
