package io.shardring.router.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.shardring.router.ConfigurationException;
import io.shardring.router.topology.RouterSettings;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Read preferences and the router's replica settings as configuration gives them, good and bad. */
class ReadPreferenceTest {
    @Test
    void modesByNameAndBounds() {
        assertThat(ReadPreference.of("secondary_preferred")).isSameAs(ReadPreference.SECONDARY_PREFERRED);
        assertThat(ReadPreference.of("Primary-Preferred")).isSameAs(ReadPreference.PRIMARY_PREFERRED);
        ReadPreference bounded = ReadPreference.secondary().maxStaleness(Duration.ofMillis(500));
        assertThat(bounded.mode()).isEqualTo(ReadPreference.Mode.SECONDARY);
        assertThat(bounded.maxStaleness()).isEqualTo(Duration.ofMillis(500));
        assertThat(bounded).isEqualTo(ReadPreference.secondary().maxStaleness(Duration.ofMillis(500)))
                .isNotEqualTo(ReadPreference.SECONDARY);
        assertThat(ReadPreference.SECONDARY.maxStaleness()).isNull();
        assertThat(bounded).hasToString("secondary(maxStaleness=500ms)");
    }

    @Test
    void badPreferencesNameTheValue() {
        assertThatThrownBy(() -> ReadPreference.of("closest")).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("'closest'").hasMessageContaining("nearest");
        assertThatThrownBy(() -> ReadPreference.secondary().maxStaleness(Duration.ZERO))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("maxStaleness must be positive");
        assertThatThrownBy(() -> ReadPreference.nearest().maxStaleness(Duration.ofMillis(-1)))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("PT-0.001S");
    }

    @Test
    void replicaIntervalIsBounded() {
        assertThat(RouterSettings.DEFAULTS.replicaInterval()).isEqualTo(Duration.ofMillis(100));
        assertThat(RouterSettings.DEFAULTS.withZone("eu-1a").withCutoverWait(Duration.ofSeconds(2)).zone())
                .as("a later with* keeps the zone").isEqualTo("eu-1a");
        assertThatThrownBy(() -> RouterSettings.DEFAULTS.withReplicaInterval(Duration.ofMillis(5)))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("router.replicaInterval")
                .hasMessageContaining("PT0.005S");
    }
}
