package io.shardring.router.jdbc;

import java.sql.Connection;
import java.sql.SQLException;

/** A unit of work on one shard's connection. */
@FunctionalInterface
public interface SqlWork<T> {
    T apply(Connection connection) throws SQLException;
}
