package io.shardring.router.topology;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.time.Duration;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * How Jackson reads and writes {@link ConfigFile}: strictly (unknown fields, and a value of another type than the
 * field's, are errors: no number becomes text, no text a number), durations in the configuration's own format, and
 * YAML's {@code .nan} and {@code .inf} as numbers.
 */
final class ConfigJackson {
    /** The YAML parser settings of the reader and of its line index. */
    static final YAMLFactory YAML = newFactory();

    /** Reads YAML into {@link ConfigFile}, and turns a ConfigFile into a tree for the writer. */
    static final ObjectMapper MAPPER = newMapper();

    private ConfigJackson() {
    }

    private static YAMLFactory newFactory() {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(Integer.MAX_VALUE); // stored tokens of a large ring exceed SnakeYAML's 3 MB default
        options.setAllowDuplicateKeys(true);          // the line index refuses them, naming both lines
        return YAMLFactory.builder().loaderOptions(options)
                .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL) // "zone:" with nothing after it means no zone
                .build();
    }

    private static ObjectMapper newMapper() {
        SimpleModule module = new SimpleModule("shardring-config");
        module.addDeserializer(Duration.class, new DurationText());
        module.addSerializer(Duration.class, new DurationWriter());
        module.addDeserializer(Double.class, new YamlDouble());
        ObjectMapper mapper = new ObjectMapper(YAML)
                .registerModule(module)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
                .setSerializationInclusion(JsonInclude.Include.NON_NULL);
        mapper.configure(MapperFeature.ALLOW_COERCION_OF_SCALARS, false);
        mapper.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        return mapper;
    }

    /** A duration as the configuration writes it: a string such as 5s or PT5S; a bare number has no unit. */
    private static final class DurationText extends JsonDeserializer<Duration> {
        @Override
        public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            Duration d = p.currentToken() == JsonToken.VALUE_STRING ? Durations.parse(p.getText()) : null;
            return d != null ? d : (Duration) ctxt.handleUnexpectedToken(Duration.class, p);
        }
    }

    private static final class DurationWriter extends JsonSerializer<Duration> {
        @Override
        public void serialize(Duration d, JsonGenerator g, SerializerProvider provider) throws IOException {
            g.writeString(Durations.format(d));
        }
    }

    /** A number, with YAML's {@code .nan}, {@code .inf} and {@code -.inf} in their allowed spellings. */
    private static final class YamlDouble extends JsonDeserializer<Double> {
        @Override
        public Double deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            JsonToken t = p.currentToken();
            if (t == JsonToken.VALUE_NUMBER_INT) {
                return p.getDoubleValue();
            }
            if (t == JsonToken.VALUE_NUMBER_FLOAT) {
                Double special = specialFloat(p.getText());
                return special != null ? special : p.getDoubleValue();
            }
            return (Double) ctxt.handleUnexpectedToken(Double.class, p);
        }
    }

    private static Double specialFloat(String text) {
        switch (text == null ? "" : text.trim()) {
            case ".nan": case ".NaN": case ".NAN":
                return Double.NaN;
            case ".inf": case ".Inf": case ".INF": case "+.inf": case "+.Inf": case "+.INF":
                return Double.POSITIVE_INFINITY;
            case "-.inf": case "-.Inf": case "-.INF":
                return Double.NEGATIVE_INFINITY;
            default:
                return null;
        }
    }

    /** Any single value as written (a shard key is a number or text, read later by the ring's key type). */
    static final class ScalarText extends JsonDeserializer<String> {
        @Override
        public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
            return p.currentToken().isScalarValue() ? p.getText() : (String) ctxt.handleUnexpectedToken(String.class, p);
        }
    }
}
