package io.shardring.migration.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PollTest {
    @Test
    void returnsTheAnswerOnceItHolds() throws SQLException {
        AtomicInteger asks = new AtomicInteger();
        String answer = Poll.every(Duration.ofMillis(1), Duration.ofSeconds(5),
                () -> asks.incrementAndGet() == 3 ? "held" : null);
        assertThat(answer).isEqualTo("held");
        assertThat(asks).hasValue(3);
    }

    @Test
    void returnsNullWhenTheBoundPassesAfterOneLastAsk() throws SQLException {
        AtomicInteger asks = new AtomicInteger();
        long start = System.nanoTime();
        Object answer = Poll.until(Duration.ofMillis(300), Duration.ofMillis(10), Duration.ofMillis(40), () -> {
            asks.incrementAndGet();
            return null;
        });
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertThat(answer).isNull();
        assertThat(ms).isBetween(300L, 2000L);
        // 10, 20, 40, 40, ... ms apart: about 9 asks in 300 ms, not 30 at 10 ms nor 3 at 100 ms
        assertThat(asks.get()).isBetween(5, 12);
    }
}
