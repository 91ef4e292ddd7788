package io.shardring.router;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class FailuresTest {
    @Test
    void aConnectionFailureIsAnUnreachableServerAnywhereInTheChainNotAnAnswerItGave() {
        assertThat(Failures.isConnectionFailure(new SQLException("refused", "08001"))).isTrue();
        assertThat(Failures.isConnectionFailure(new SQLException("shutting down", "57P01"))).isTrue();
        assertThat(Failures.isConnectionFailure(new RuntimeException("jOOQ", new SQLException("gone", "08006"))))
                .isTrue();
        assertThat(Failures.isConnectionFailure(new SQLException("I/O error", null, new IOException("reset"))))
                .isTrue();
        assertThat(Failures.isConnectionFailure(new SQLException("duplicate key", "23505"))).isFalse();
        assertThat(Failures.isConnectionFailure(new SQLException("no state"))).isFalse();
        assertThat(Failures.isConnectionFailure(new IllegalStateException("a bug"))).isFalse();
    }

    @Test
    void sqlCausesAreFoundBehindWrappers() {
        assertThat(Failures.hasSqlCause(new RuntimeException(new SQLException("x", "23505")))).isTrue();
        assertThat(Failures.hasSqlCause(new IllegalArgumentException("the application's own"))).isFalse();
        assertThat(Failures.hasSqlOrIoCause(new RuntimeException(new IOException("closed")))).isTrue();
        assertThat(Failures.hasSqlOrIoCause(new IllegalStateException("a bug"))).isFalse();
    }
}
