package io.shardring.router.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.router.ring.KeyType;
import io.shardring.router.ring.TokenPlacement;
import java.time.Duration;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Builders;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Whatever a topology holds, writing it and parsing the text gives it back. */
class ShardringYamlProperties {

    @Property(tries = 300)
    void writeThenParseGivesTheSameConfiguration(@ForAll("configs") ShardringConfig config) {
        String yaml = ShardringYaml.write(config.topology(), config.router());
        ShardringConfig back = ShardringYaml.parse(yaml, "generated.yaml");

        ShardringYamlTest.assertSameConfig(back, config);
        assertThat(ShardringYaml.write(back.topology(), back.router())).isEqualTo(yaml);
    }

    @Property(tries = 200)
    void durationsRoundTrip(@ForAll("durations") Duration d) {
        assertThat(ShardringYaml.parseDuration(ShardringYaml.formatDuration(d))).isEqualTo(d);
    }

    @Provide
    Arbitrary<ShardringConfig> configs() {
        Arbitrary<RingSettings> rings = Combinators.combine(
                Arbitraries.of(KeyType.class), Arbitraries.integers().between(1, 48),
                Arbitraries.of(TokenPlacement.class)).as((k, v, p) -> new RingSettings(k, v, p, 1));
        Arbitrary<List<NodeConfig.Builder>> nodes = nodeIds().list().ofMinSize(1).ofMaxSize(5).uniqueElements()
                .flatMap(ids -> Combinators.combine(ids.stream().map(this::node).toList()).as(l -> l));
        Arbitrary<RouterSettings> routers = Combinators.combine(durations(), durations(),
                Arbitraries.integers().between(1, 64)).as(RouterSettings::new);
        return Combinators.combine(rings, nodes, Arbitraries.longs().between(1, Long.MAX_VALUE), routers,
                Arbitraries.integers().between(1, 4), tables(), Arbitraries.of(true, false))
                .as((ring, builders, version, router, rf, tables, storeAll) -> {
                    int replication = Math.min(rf, builders.size());
                    Topology.Builder b = Topology.builder().version(version).ring(new RingSettings(ring.keyType(),
                            ring.vnodes(), ring.placement(), replication));
                    builders.forEach(n -> b.node(n.build()));
                    tables.forEach(b::table);
                    Topology t = b.build();
                    return new ShardringConfig(storeAll ? t.withStoredTokens() : t, router);
                });
    }

    private Arbitrary<NodeConfig.Builder> node(String id) {
        Arbitrary<String> text = Arbitraries.strings().ofMinLength(1).ofMaxLength(12)
                .filter(s -> !s.isBlank());
        Arbitrary<String> zones = Arbitraries.oneOf(Arbitraries.just(null), text,
                Arbitraries.of("eu-west-1a", "us-east-1b", "true", "null", "1.5", "a: b", "#x"));
        Arbitrary<String> passwords = Arbitraries.oneOf(Arbitraries.just(null),
                Arbitraries.strings().withCharRange('A', 'Z').withChars('_').ofMinLength(1).ofMaxLength(10)
                        .map(v -> "${" + v + "}"),
                text.map(p -> "file:/run/secrets/" + p));
        Arbitrary<Double> weights = Arbitraries.oneOf(Arbitraries.just(1.0),
                // derived placements place round(vnodes * weight) tokens, so weights stay in a sane range here
                Arbitraries.doubles().between(0.01, 100).ofScale(6),
                Arbitraries.of(0.1, 1.0 / 3, 2.0 / 3, 12.345678901234567, 1e-2 + 1e-12));
        Arbitrary<List<String>> standbys = Arbitraries.strings().alpha().ofMinLength(1).ofMaxLength(8)
                .map(h -> "jdbc:postgresql://" + h + ":5432/app?sslmode=require").list().ofMaxSize(2);
        Arbitrary<PoolSettings> pools = Builders.withBuilder(PoolSettings::builder)
                .use(Arbitraries.integers().between(1, 50)).in((b, n) -> b.maximumPoolSize(n))
                .use(Arbitraries.integers().between(0, 1)).withProbability(0.5).in((b, n) -> b.minimumIdle(n))
                .use(Arbitraries.longs().between(250, 100_000)).withProbability(0.5)
                .in((b, ms) -> b.connectionTimeout(Duration.ofMillis(ms)))
                .use(durations()).withProbability(0.5).in((b, d) -> b.idleTimeout(d))
                .use(Arbitraries.longs().between(30, 100_000)).withProbability(0.5)
                .in((b, s) -> b.maxLifetime(Duration.ofSeconds(s)))
                .use(Arbitraries.longs().between(250, 100_000)).withProbability(0.5)
                .in((b, ms) -> b.validationTimeout(Duration.ofMillis(ms)))
                .build(PoolSettings.Builder::build);
        return Combinators.combine(text, zones, passwords, weights, standbys, pools)
                .as((user, zone, password, weight, standbyUrls, pool) -> {
                    NodeConfig.Builder b = NodeConfig.builder(id).jdbcUrl("jdbc:postgresql://" + id + ":5432/app")
                            .user(user).zone(zone).weight(weight).pool(pool);
                    if (password != null) {
                        b.password(password);
                    }
                    standbyUrls.forEach(b::standby);
                    return b;
                });
    }

    private static Arbitrary<String> nodeIds() {
        return Combinators.combine(Arbitraries.strings().alpha().numeric().ofLength(1),
                Arbitraries.strings().alpha().numeric().withChars('_', '.', '-').ofMaxLength(20))
                .as(String::concat);
    }

    private static Arbitrary<List<ShardedTable>> tables() {
        Arbitrary<String> ident = Arbitraries.strings().ofMinLength(1).ofMaxLength(10)
                .filter(s -> s.indexOf('.') < 0 && s.indexOf('\0') < 0 && !s.isBlank());
        Arbitrary<String> schema = Arbitraries.oneOf(Arbitraries.just("public"), ident);
        return Combinators.combine(schema, ident, ident).as(ShardedTable::of)
                .list().ofMaxSize(3)
                .uniqueElements(t -> t.schema() + "\0" + t.name());
    }

    @Provide
    Arbitrary<Duration> durations() {
        return Arbitraries.oneOf(
                Arbitraries.longs().between(0, 1_000_000).map(Duration::ofMillis),
                Arbitraries.longs().between(0, 100_000).map(Duration::ofSeconds),
                Arbitraries.longs().between(0, 1_000).map(Duration::ofHours),
                Arbitraries.longs().between(0, Long.MAX_VALUE).map(Duration::ofNanos),
                Arbitraries.of(Duration.ZERO, Duration.ofDays(1), Duration.ofSeconds(Long.MAX_VALUE, 999_999_999)));
    }
}
