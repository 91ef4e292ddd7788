package io.shardring.migration.move;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardring.router.ConfigurationException;
import org.junit.jupiter.api.Test;

class JdbcUrlTest {

    @Test
    void readsHostPortDatabaseAndTlsSettings() {
        JdbcUrl u = JdbcUrl.parse("jdbc:postgresql://pg-a.internal:6543/app%20db?sslmode=verify-full&ApplicationName=x"
                + "&sslrootcert=/etc/ca.pem");
        assertThat(u.host).isEqualTo("pg-a.internal");
        assertThat(u.port).isEqualTo(6543);
        assertThat(u.database).isEqualTo("app db");
        assertThat(u.ssl).containsEntry("sslmode", "verify-full").containsEntry("sslrootcert", "/etc/ca.pem")
                .doesNotContainKey("ApplicationName");
        assertThat(JdbcUrl.parse("jdbc:postgresql://h/db").port).isEqualTo(5432);
    }

    @Test
    void aUrlWithoutADatabaseIsRefused() {
        assertThatThrownBy(() -> JdbcUrl.parse("jdbc:postgresql://h:5432")).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("host:port/database");
    }
}
