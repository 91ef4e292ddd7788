package io.shardring.migration.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PerNodeTest {
    @Test
    void runsTheNodesAtOnceAndReturnsTheirResultsInTheKeysOrder() throws SQLException {
        CountDownLatch all = new CountDownLatch(3);
        Map<String, Integer> out = PerNode.run("test", 3, List.of("c", "a", "b"), node -> {
            all.countDown();
            // only returns if the three run at the same time
            try {
                if (!all.await(5, TimeUnit.SECONDS)) {
                    throw new SQLException("ran one after another");
                }
            } catch (InterruptedException e) {
                throw new SQLException(e);
            }
            return node.charAt(0) - 'a';
        });
        assertThat(out).containsExactly(Map.entry("c", 2), Map.entry("a", 0), Map.entry("b", 1));
    }

    @Test
    void theFirstFailureIsThrownAsTheTaskThrewIt() {
        SQLException broken = new SQLException("node b is gone", "08006");
        assertThatThrownBy(() -> PerNode.run("test", 2, List.of("a", "b"), node -> {
            if (node.equals("b")) {
                throw broken;
            }
            return node;
        })).isSameAs(broken);
        IllegalStateException bug = new IllegalStateException("a bug");
        assertThatThrownBy(() -> PerNode.run("test", 1, List.of("a"), node -> {
            throw bug;
        })).isSameAs(bug);
    }

    @Test
    void noKeysNoThreads() throws SQLException {
        assertThat(PerNode.run("test", 4, List.<String>of(), node -> node)).isEmpty();
    }
}
