/**
 * Adopting an application's existing database: {@link io.shardring.migration.adopt.SchemaClone} reads the
 * definitions of its tables and everything they need from the system catalogs and replays them on a new, empty node,
 * for schemas that no Flyway migration could recreate there.
 */
package io.shardring.migration.adopt;
