package io.shardring.router.topology;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.shardring.router.ConfigurationException;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * One streaming pass over a YAML text: each value's field path ({@code nodes[1].weight}) with its line and its text as
 * written, for messages. The pass also refuses what a binder would let through silently: a key given twice in one
 * mapping, an alias, a second document, an integer with a leading zero (YAML 1.1 reads it as octal); and it reports
 * malformed YAML by line and column without the text (it could hold a password).
 */
final class YamlIndex {
    /** What a value is in YAML. */
    enum Kind { MAP, LIST, STRING, INT, FLOAT, BOOLEAN, NULL }

    /** A value as written: its kind, its text (scalars only) and the line it starts on. */
    record Value(Kind kind, String text, int line) {
    }

    private static final Pattern LEADING_ZERO = Pattern.compile("[-+]?0[0-9_]+");

    private final String source;
    private final Map<String, Value> values = new HashMap<>();

    private YamlIndex(String source) {
        this.source = source;
    }

    /**
     * Indexes {@code yaml}, whose root is a value (not an empty text).
     *
     * @throws ConfigurationException naming {@code source} for what the pass refuses
     */
    static YamlIndex of(String yaml, String source) {
        YamlIndex index = new YamlIndex(source);
        try (JsonParser p = ConfigJackson.YAML.createParser(yaml)) {
            JsonToken first = p.nextToken();
            if (first == null) {
                throw index.error("the file is empty; it needs at least ring.keyType and nodes"
                        + " (see docs/configuration.md)");
            }
            index.read(p, first, "");
            if (p.nextToken() != null) {
                throw index.error("line " + line(p) + ": a second YAML document starts here; keep the whole"
                        + " configuration in one document (remove the second '---')");
            }
            return index;
        } catch (JsonProcessingException e) {
            throw index.malformed(e);
        } catch (IOException e) {
            throw new ConfigurationException(source + ": cannot read the YAML (" + e.getClass().getSimpleName() + ")",
                    e);
        }
    }

    /** The value at {@code path}, or null when the text has none there. */
    Value at(String path) {
        return values.get(path);
    }

    private void read(JsonParser p, JsonToken t, String path) throws IOException {
        int line = line(p);
        switch (t) {
            case START_OBJECT: {
                values.put(path, new Value(Kind.MAP, null, line));
                Map<String, Integer> keyLines = new HashMap<>();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    String name = p.currentName();
                    String child = path.isEmpty() ? name : path + "." + name;
                    Integer first = keyLines.putIfAbsent(name, line(p));
                    if (first != null) {
                        throw error(child + " is given twice (line " + first + " and line " + line(p) + "); keep one");
                    }
                    read(p, p.nextToken(), child);
                }
                return;
            }
            case START_ARRAY: {
                values.put(path, new Value(Kind.LIST, null, line));
                int i = 0;
                for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                    read(p, e, path + "[" + i++ + "]");
                }
                return;
            }
            case VALUE_STRING:
                if (p instanceof YAMLParser && ((YAMLParser) p).isCurrentAlias()) {
                    throw error(path + ": YAML aliases (*name) are not supported; write the value out (line "
                            + line + ")");
                }
                values.put(path, new Value(Kind.STRING, p.getText(), line));
                return;
            case VALUE_NUMBER_INT:
                try {
                    p.getNumberValue();
                } catch (JsonProcessingException | NumberFormatException e) {
                    throw error(path + ": " + ConfigValues.shown(path, p.getText()) + " is not a valid integer (line "
                            + line + ")");
                }
                if (LEADING_ZERO.matcher(p.getText()).matches()) {
                    throw error(path + ": " + ConfigValues.shown(path, p.getText()) + " has a leading zero, which"
                            + " YAML reads as an octal number; remove the leading zero (line " + line + ")");
                }
                values.put(path, new Value(Kind.INT, p.getText(), line));
                return;
            case VALUE_NUMBER_FLOAT:
                values.put(path, new Value(Kind.FLOAT, p.getText(), line));
                return;
            case VALUE_TRUE:
            case VALUE_FALSE:
                values.put(path, new Value(Kind.BOOLEAN, p.getText(), line));
                return;
            case VALUE_NULL:
                values.put(path, new Value(Kind.NULL, p.getText(), line));
                return;
            default:
                throw error(path + ": unsupported YAML value (" + t + ") at line " + line);
        }
    }

    private static int line(JsonParser p) {
        JsonLocation loc = p.currentTokenLocation();
        return loc == null ? 0 : loc.getLineNr();
    }

    private ConfigurationException error(String message) {
        return new ConfigurationException(source + ": " + message);
    }

    /** A syntax error with its line and column, without the offending text. */
    private ConfigurationException malformed(JsonProcessingException e) {
        String problem;
        int line;
        int column;
        if (e.getCause() instanceof MarkedYAMLException) {
            MarkedYAMLException m = (MarkedYAMLException) e.getCause();
            problem = m.getProblem() == null ? "syntax error" : m.getProblem();
            if (m.getContext() != null) {
                problem = problem + " (" + m.getContext() + ")";
            }
            line = m.getProblemMark() == null ? -1 : m.getProblemMark().getLine() + 1;
            column = m.getProblemMark() == null ? -1 : m.getProblemMark().getColumn() + 1;
        } else {
            problem = e.getOriginalMessage();
            JsonLocation loc = e.getLocation();
            line = loc == null ? -1 : loc.getLineNr();
            column = loc == null ? -1 : loc.getColumnNr();
        }
        String where = line > 0 ? "line " + line + (column > 0 ? ", column " + column : "") + ": " : "";
        // not the cause: SnakeYAML's message quotes the line, which a logged stack trace would show
        return new ConfigurationException(source + ": " + where + "malformed YAML: " + problem);
    }
}
