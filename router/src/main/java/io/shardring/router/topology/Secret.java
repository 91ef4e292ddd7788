package io.shardring.router.topology;

import io.shardring.router.ConfigurationException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A password or other credential, given by reference so that configuration files hold no secrets:
 * {@code ${ENV_VAR}} reads an environment variable, {@code file:/path} reads a file (trailing newline
 * stripped), anything else is a literal (fine for tests; never printed). {@link #toString()} shows the
 * reference for references and {@code ****} for literals, never the value.
 */
public final class Secret {
    private static final Pattern ENV = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

    private enum Kind { LITERAL, ENV, FILE }

    private final Kind kind;
    private final String ref;

    private Secret(Kind kind, String ref) {
        this.kind = kind;
        this.ref = ref;
    }

    /** Parses {@code ${VAR}}, {@code file:/path} or a literal. Null or empty means no password. */
    public static Secret of(String spec) {
        if (spec == null || spec.isEmpty()) {
            return null;
        }
        Matcher m = ENV.matcher(spec);
        if (m.matches()) {
            return new Secret(Kind.ENV, m.group(1));
        }
        if (spec.startsWith("${")) {
            throw new ConfigurationException("malformed password reference: write ${NAME} with letters, digits and"
                    + " '_' only, starting with a letter or '_'");
        }
        if (spec.startsWith("file:")) {
            if (spec.length() == "file:".length()) {
                throw new ConfigurationException("password reference 'file:' names no file; write file:/path/to/secret");
            }
            return new Secret(Kind.FILE, spec.substring("file:".length()));
        }
        return new Secret(Kind.LITERAL, spec);
    }

    public static Secret env(String variable) {
        if (variable == null || !ENV.matcher("${" + variable + "}").matches()) {
            throw new ConfigurationException("invalid environment variable name '" + variable + "'");
        }
        return new Secret(Kind.ENV, variable);
    }

    public static Secret file(Path path) {
        return new Secret(Kind.FILE, path.toString());
    }

    /** The value, read now from its source. */
    public String resolve() {
        return resolve(System::getenv);
    }

    /**
     * The value, with environment lookups through {@code env} (for tests and embedding).
     *
     * @throws ConfigurationException naming the variable or file (never the value) when it is missing
     */
    public String resolve(Function<String, String> env) {
        switch (kind) {
            case ENV:
                String v = env.apply(ref);
                if (v == null) {
                    throw new ConfigurationException("environment variable " + ref + " is not set; set it to the"
                            + " password, or change the password reference ${" + ref + "}");
                }
                return v;
            case FILE:
                try {
                    String s = Files.readString(Path.of(ref), StandardCharsets.UTF_8);
                    return s.endsWith("\n") ? s.substring(0, s.length() - (s.endsWith("\r\n") ? 2 : 1)) : s;
                } catch (IOException | RuntimeException e) {
                    throw new ConfigurationException("cannot read password file " + ref + " (" + e.getClass().getSimpleName()
                            + "); create it or change the reference file:" + ref);
                }
            default:
                return ref;
        }
    }

    /** True when the value is written in the configuration itself rather than referenced. */
    public boolean isLiteral() {
        return kind == Kind.LITERAL;
    }


    @Override
    public boolean equals(Object o) {
        return o instanceof Secret && ((Secret) o).kind == kind && ((Secret) o).ref.equals(ref);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, ref);
    }

    @Override
    public String toString() {
        switch (kind) {
            case ENV:
                return "${" + ref + "}";
            case FILE:
                return "file:" + ref;
            default:
                return "****";
        }
    }
}
