package io.shardring.router.topology;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The optional tool sections: {@code catalog.node} and {@code schema.locations}. */
class ShardringYamlToolSectionsTest {

    private static final String NODES = "ring:\n  keyType: bigint\nnodes:\n"
            + "  - id: pg-a\n    jdbcUrl: jdbc:postgresql://a:5432/app\n    user: app\n"
            + "  - id: pg-b\n    jdbcUrl: jdbc:postgresql://b:5432/app\n    user: app\n";

    @Test
    void catalogNodeAndSchemaLocationsAreRead() {
        ShardringConfig c = ShardringYaml.parse(NODES + "catalog:\n  node: pg-b\nschema:\n  locations:\n"
                + "    - classpath:db/migration\n    - filesystem:/opt/app/sql\n", "config.yaml");
        assertThat(c.catalogNode()).isEqualTo("pg-b");
        assertThat(c.schemaLocations()).containsExactly("classpath:db/migration", "filesystem:/opt/app/sql");
    }

    @Test
    void withoutTheSectionsTheCatalogIsOnTheFirstNodeAndThereAreNoLocations() {
        ShardringConfig c = ShardringYaml.parse(NODES, "config.yaml");
        assertThat(c.catalogNode()).isEqualTo("pg-a");
        assertThat(c.schemaLocations()).isEmpty();
        assertThat(new ShardringConfig(c.topology(), null).catalogNode()).isEqualTo("pg-a");
        assertThat(new ShardringConfig(c.topology(), null, null, List.of()).schemaLocations()).isEmpty();
    }

    @Test
    void anUnknownCatalogNodeOrAMisspeltFieldIsAnError() {
        assertThat(ShardringYamlTest.error(NODES + "catalog:\n  node: pg-x\n"))
                .contains("catalog.node: 'pg-x' is not one of the nodes [pg-a, pg-b]").contains("(line 11)");
        assertThat(ShardringYamlTest.error(NODES + "schema:\n  location: [a]\n"))
                .contains("schema.location: unknown field 'location'; did you mean 'locations'?");
        assertThat(ShardringYamlTest.error(NODES + "schema:\n  locations: [1]\n"))
                .contains("schema.locations[0]: expected a Flyway location");
    }

    @Test
    void writingAWholeConfigurationKeepsTheToolSections() {
        ShardringConfig c = ShardringYaml.parse(NODES + "catalog:\n  node: pg-b\nschema:\n  locations:\n"
                + "    - classpath:db/migration\n    - filesystem:/opt/app/sql\n", "config.yaml");
        ShardringConfig back = ShardringYaml.parse(ShardringYaml.write(c), "written.yaml");
        assertThat(back.catalogNode()).isEqualTo("pg-b");
        assertThat(back.schemaLocations()).containsExactly("classpath:db/migration", "filesystem:/opt/app/sql");
        assertThat(back.topology().nodes().keySet()).containsExactly("pg-a", "pg-b");
    }
}
