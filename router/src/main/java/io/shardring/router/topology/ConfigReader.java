package io.shardring.router.topology;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.shardring.router.ConfigurationException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * Reads a YAML text into a {@link ConfigFile}: Jackson binds it, and its errors are reworded from the line index,
 * naming the field path, the line, the value as written (never a password's) and, for an unknown field, the closest
 * allowed one. Jackson's own messages are not used: they carry values.
 */
final class ConfigReader {

    /** A file as bound, and how to name its fields in messages. */
    record Read(ConfigFile file, ConfigOrigin origin) {
    }

    private ConfigReader() {
    }

    /** @throws ConfigurationException naming {@code source}, the field path and the line */
    static Read read(String yaml, String source) {
        YamlIndex index = YamlIndex.of(yaml, source);
        YamlIndex.Value root = index.at("");
        if (root.kind() == YamlIndex.Kind.NULL) {
            throw new ConfigurationException(source + ": the file holds no settings; it needs at least ring.keyType and"
                    + " nodes (see docs/configuration.md)");
        }
        ConfigFile file;
        try {
            file = ConfigJackson.MAPPER.readValue(yaml, ConfigFile.class);
        } catch (JsonMappingException e) {
            // not the cause: Jackson's message carries the value, which a logged stack trace would show
            throw new ConfigurationException(source + ": " + reworded(e, index));
        } catch (JsonProcessingException e) {
            throw new ConfigurationException(source + ": cannot read the YAML (" + e.getClass().getSimpleName() + ")",
                    e);
        }
        return new Read(file, new FileOrigin(source, index));
    }

    /** A YAML file names a field by its path and the line of its value, and holds password references only. */
    private record FileOrigin(String source, YamlIndex index) implements ConfigOrigin {
        @Override
        public String name(String path) {
            return path;
        }

        @Override
        public int line(String path) {
            YamlIndex.Value v = index.at(path);
            return v == null ? 0 : v.line();
        }

        @Override
        public Secret password(String path, String given) {
            Secret secret = Secret.of(given);
            if (secret != null && secret.isLiteral()) {
                throw new ConfigurationException("a configuration file must not hold the password itself; reference"
                        + " it as ${ENV_VAR} (an environment variable; letters, digits and '_') or file:/path (a file"
                        + " holding only the password)");
            }
            return secret;
        }
    }

    // ------------------------------------------------------------------------------------------------ errors

    private static String reworded(JsonMappingException e, YamlIndex index) {
        List<JsonMappingException.Reference> refs = e.getPath();
        String path = path(refs, refs.size());
        if (e instanceof UnrecognizedPropertyException) {
            String parent = path(refs, refs.size() - 1);
            String name = ((UnrecognizedPropertyException) e).getPropertyName();
            List<String> allowed = fields(((UnrecognizedPropertyException) e).getReferringClass());
            String hint = ConfigValues.suggestion(name, allowed);
            return path + ": unknown field '" + name + "'" + (hint == null ? "" : "; did you mean '" + hint + "'?")
                    + " Allowed " + (parent.isEmpty() ? "at the top level" : "in " + parent.replaceAll("\\[\\d+]", "[]"))
                    + ": " + String.join(", ", allowed) + lineOf(index.at(path));
        }
        Class<?> expected = typeAt(refs);
        YamlIndex.Value v = index.at(path);
        return expectation(path, expected, v) + lineOf(v);
    }

    /** {@code nodes[1].weight} for the first {@code n} steps of a Jackson path. */
    private static String path(List<JsonMappingException.Reference> refs, int n) {
        StringBuilder b = new StringBuilder();
        for (JsonMappingException.Reference r : refs.subList(0, n)) {
            if (r.getFieldName() != null) {
                b.append(b.length() == 0 ? "" : ".").append(r.getFieldName());
            } else {
                b.append('[').append(r.getIndex()).append(']');
            }
        }
        return b.toString();
    }

    /** The model's type at a path: a record, a List, or the type of a single value. */
    private static Class<?> typeAt(List<JsonMappingException.Reference> refs) {
        Type type = ConfigFile.class;
        for (JsonMappingException.Reference r : refs) {
            if (r.getFieldName() != null && type instanceof Class<?> && ((Class<?>) type).isRecord()) {
                type = Arrays.stream(((Class<?>) type).getRecordComponents())
                        .filter(c -> c.getName().equals(r.getFieldName())).findFirst()
                        .map(RecordComponent::getGenericType).orElse(Object.class);
            } else if (r.getFieldName() == null && type instanceof ParameterizedType) {
                type = ((ParameterizedType) type).getActualTypeArguments()[0];
            }
        }
        return type instanceof ParameterizedType ? (Class<?>) ((ParameterizedType) type).getRawType() : (Class<?>) type;
    }

    /** The names of a record's fields, in the order a file writes them. */
    static List<String> fields(Class<?> record) {
        return record == null || !record.isRecord() ? List.of()
                : Arrays.stream(record.getRecordComponents()).map(RecordComponent::getName).toList();
    }

    private static String expectation(String path, Class<?> expected, YamlIndex.Value v) {
        String got = describe(path, v);
        if (expected.isRecord()) {
            return path.isEmpty() ? "expected a mapping of " + String.join(", ", fields(expected))
                    + " at the top level, got " + got
                    : path + ": expected a mapping with fields " + String.join(", ", fields(expected)) + ", got " + got;
        }
        if (List.class.isAssignableFrom(expected)) {
            return path + ": expected a list (entries starting with '- '), got " + got;
        }
        boolean scalar = v != null && v.kind() != YamlIndex.Kind.MAP && v.kind() != YamlIndex.Kind.LIST;
        boolean integer = v != null && v.kind() == YamlIndex.Kind.INT;
        if (expected == Integer.class && integer) {
            return path + ": " + v.text() + " is out of range; use a whole number up to " + Integer.MAX_VALUE;
        }
        if (expected == Long.class && integer) {
            return path + ": " + v.text() + " is out of range; use a whole number from " + Long.MIN_VALUE + " to "
                    + Long.MAX_VALUE;
        }
        if (expected == Integer.class || expected == Long.class) {
            return path + ": expected a whole number, got " + got;
        }
        if (expected == Double.class) {
            return path + ": expected a number, got " + got;
        }
        if (expected == Duration.class && integer) {
            return path + ": " + v.text() + " has no unit; write e.g. " + v.text() + "s or " + v.text() + "ms";
        }
        if (expected == Duration.class && v != null && v.kind() == YamlIndex.Kind.STRING) {
            return path + ": '" + v.text() + "' is not a duration; use a whole number with a unit (500ms, 5s, 2m,"
                    + " 1h, 1d) or ISO-8601 such as PT5S";
        }
        if (expected == Duration.class) {
            return path + ": expected a duration such as 500ms, 5s, 2m, 1h or PT5S, got " + got;
        }
        String what = path.matches("pins\\[\\d+]\\.key") ? "the pinned shard key, a number or text"
                : path.matches("schema\\.locations\\[\\d+]") ? "a Flyway location such as classpath:db/migration or"
                + " filesystem:/path"
                : path.matches("nodes\\[\\d+]\\.standbys\\[\\d+]") ? "a JDBC URL string"
                : path.matches("reference\\.tables\\[\\d+]") ? "a table name such as public.plans" : null;
        return what != null ? path + ": expected " + what + ", got " + got
                : path + ": expected a string, got " + got + (scalar ? "; put it in quotes" : "");
    }

    /** A value for a message: never a password, URLs with credentials masked, long text cut. */
    private static String describe(String path, YamlIndex.Value v) {
        boolean secret = ConfigValues.isSecret(path);
        switch (v == null ? YamlIndex.Kind.NULL : v.kind()) {
            case MAP:
                return "a mapping";
            case LIST:
                return "a list";
            case NULL:
                return "nothing";
            case BOOLEAN:
                // YAML reads yes/no/on/off as booleans too: show what was written
                return secret ? "a boolean" : ConfigValues.shown(path, v.text()) + " (a YAML boolean)";
            case STRING:
                return secret ? "a string" : "the string " + ConfigValues.shown(path, v.text());
            default:
                return secret ? "a number" : "the number " + v.text();
        }
    }

    private static String lineOf(YamlIndex.Value v) {
        return v == null || v.line() <= 0 ? "" : " (line " + v.line() + ")";
    }
}
