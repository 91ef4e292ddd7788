package io.shardring.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.router.topology.ConfigFile;
import io.shardring.router.topology.ShardringConfig;
import io.shardring.router.topology.ShardringYaml;
import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The configuration's fields are declared once, in {@link ConfigFile}: reflecting over it, every field of a
 * shardring.yaml is a Spring property that binds to the same value, survives the writer, and, for the topology's
 * fields, the catalog's store and load. The fixture sets every field (checked), so a field added to the model is
 * checked here as soon as the fixture sets it.
 */
class ConfigFileBindingTest {
    private static final Path EVERY_FIELD = Path.of("..", "router", "src", "test", "resources", "config",
            "every-field.yaml");
    /** The sections a topology holds, which the catalog stores; the others are the router's and the tools'. */
    private static final List<String> TOPOLOGY = List.of("version", "ring", "tables", "reference", "pins", "nodes");

    private static String everyField() throws Exception {
        return Files.readString(EVERY_FIELD);
    }

    @Test
    void theFixtureSetsEveryFieldOfTheModel() throws Exception {
        List<String> unset = new ArrayList<>();
        unset(ShardringYaml.read(everyField(), "every-field.yaml"), "", unset);
        assertThat(unset).as("fields of ConfigFile the fixture leaves out").isEmpty();
    }

    @Test
    void everyFieldIsASpringPropertyThatBindsToTheSameValue() throws Exception {
        ConfigFile file = ShardringYaml.read(everyField(), "every-field.yaml");
        Map<String, String> properties = new LinkedHashMap<>();
        properties(file, "shardring", properties);
        ShardringProperties bound = ShardringConfigLoaderTest.bind(properties);
        assertThat(bound.file()).isEqualTo(file);
        // and the binding record holds the model's top-level fields, under the same names and types
        for (RecordComponent c : ConfigFile.class.getRecordComponents()) {
            assertThat(Arrays.stream(ShardringProperties.class.getRecordComponents())
                    .filter(p -> p.getName().equals(c.getName()) && p.getGenericType().equals(c.getGenericType())))
                    .as("ShardringProperties.%s", c.getName()).hasSize(1);
        }
    }

    @Test
    void everyFieldSurvivesTheWriterAndTheTopologysFieldsTheCatalog() throws Exception {
        ConfigFile file = ShardringYaml.read(everyField(), "every-field.yaml");
        ShardringConfig config = ShardringYaml.parse(everyField(), "every-field.yaml");

        assertThat(ShardringYaml.read(ShardringYaml.write(config), "written")).isEqualTo(file);

        // what Catalog.publish stores for a topology, and reads back
        ConfigFile stored = ShardringYaml.read(ShardringYaml.write(config.topology().withStoredTokens(), null),
                "catalog");
        for (RecordComponent c : ConfigFile.class.getRecordComponents()) {
            Object want = value(c, file);
            Object got = value(c, stored);
            if (TOPOLOGY.contains(c.getName())) {
                assertThat(got).as(c.getName()).isEqualTo(want);
            } else {
                assertThat(got).as("%s is not part of a topology", c.getName()).isNull();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"500ms", "5s", "2m", "1h", "1d", "PT5S"})
    void springReadsEveryDurationFormatOfTheFile(String text) {
        String yaml = "ring:\n  keyType: bigint\nrouter:\n  drainTimeout: " + text + "\nnodes:\n  - id: a\n"
                + "    jdbcUrl: jdbc:postgresql://a/app\n    user: app\n";
        Duration fromFile = ShardringYaml.parse(yaml, "x").router().drainTimeout();
        Duration fromSpring = ShardringConfigLoaderTest.bind(Map.of("shardring.router.drain-timeout", text))
                .router().drainTimeout();
        assertThat(fromSpring).isEqualTo(fromFile);
    }

    // ------------------------------------------------------------------------------------------------ reflection

    private static Object value(RecordComponent c, Object record) {
        try {
            return c.getAccessor().invoke(record);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The paths of the fields left out (null, or an empty list) anywhere in {@code value}. */
    private static void unset(Object value, String path, List<String> unset) {
        if (value == null || value instanceof List<?> l && l.isEmpty()) {
            unset.add(path);
        } else if (value.getClass().isRecord()) {
            for (RecordComponent c : value.getClass().getRecordComponents()) {
                unset(value(c, value), path.isEmpty() ? c.getName() : path + "." + c.getName(), unset);
            }
        } else if (value instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                unset(list.get(i), path + "[" + i + "]", unset);
            }
        }
    }

    /** {@code value} as Spring properties, named from the model's fields in Spring's canonical (kebab) form. */
    private static void properties(Object value, String name, Map<String, String> out) {
        if (value == null) {
            return;
        }
        if (value.getClass().isRecord()) {
            for (RecordComponent c : value.getClass().getRecordComponents()) {
                properties(value(c, value), name + "." + c.getName().replaceAll("([A-Z])", "-$1")
                        .toLowerCase(Locale.ROOT), out);
            }
        } else if (value instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                properties(list.get(i), name + "[" + i + "]", out);
            }
        } else {
            out.put(name, value.toString());
        }
    }
}
